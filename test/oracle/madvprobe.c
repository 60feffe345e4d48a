// daxsim oracle probe: madvise advice x mapping kind errno table (MADV_FREE, REMOVE, DONTFORK, DOFORK,
// COLD, PAGEOUT on a shared rw, shared ro, private file mapping and private anonymous memory of a
// 4 MiB file on DIR), then the first byte and st_blocks after MADV_REMOVE punched page 0.
// Build and run: gcc -O2 -o madvprobe madvprobe.c && ./madvprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>
static long F(void){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_minflt+r.ru_majflt;}
static const char* E(int r){return r==0?"ok":strerrorname_np(errno);}
int main(int argc,char**argv){
  size_t len=4<<20; char fn[256]; snprintf(fn,sizeof fn,"%s/mv.dat",argv[1]);
  int fd=open(fn,O_RDWR|O_CREAT|O_TRUNC,0644); static char b[4096]; memset(b,5,sizeof b);
  for(size_t o=0;o<len;o+=4096) pwrite(fd,b,4096,o); fsync(fd);
  char*sh=mmap(NULL,len,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
  char*ro=mmap(NULL,len,PROT_READ,MAP_SHARED,fd,0);
  char*pv=mmap(NULL,len,PROT_READ|PROT_WRITE,MAP_PRIVATE,fd,0);
  char*an=mmap(NULL,len,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  for(size_t o=0;o<len;o+=4096){ an[o]=7; volatile char c=sh[o]; (void)c; }
  int advs[]={MADV_FREE,MADV_REMOVE,MADV_DONTFORK,MADV_DOFORK,MADV_COLD,MADV_PAGEOUT};
  const char*names[]={"FREE","REMOVE","DONTFORK","DOFORK","COLD","PAGEOUT"};
  for(int i=0;i<6;i++) printf("%s: shared=%s ro=%s private=%s anon=%s\n",names[i],E(madvise(sh,4096,advs[i])),E(madvise(ro,4096,advs[i])),E(madvise(pv,4096,advs[i])),E(madvise(an+4096,4096,advs[i])));
  struct stat st; fstat(fd,&st);
  long f0=F(); volatile char c=sh[0]; long d=F()-f0;
  printf("after REMOVE: byte=%d faults=%ld blocks=%ld anon[4096]=%d\n",c,d,(long)st.st_blocks,an[4096]);
  unlink(fn); return 0;
}
