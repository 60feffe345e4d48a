// The example scenarios bundled into the page by the build (src/view/build.ts examplesPlugin).
declare module 'virtual:daxsim-examples' {
  export const examples: ReadonlyArray<{ name: string; text: string }>;
}
