/* throwaway: CPU seconds per Lloyd iteration (1 thread), min over repeats */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include "strata.h"
static double cpu(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static double wall(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static unsigned long long s=88172645463325252ULL;
static double u01(void){s^=s<<13;s^=s>>7;s^=s<<17;return (s>>11)*0x1p-53;}
static double nrm(void){return sqrt(-2*log(u01()+1e-300))*cos(6.283185307*u01());}
int main(int argc,char**argv){
  long n=atol(argv[1]); int d=atoi(argv[2]),k=atoi(argv[3]),dt=!strcmp(argv[4],"float64")?STRATA_FLOAT64:STRATA_FLOAT32;
  int kern=!strcmp(argv[5],"avx512")?STRATA_KERNEL_AVX512:STRATA_KERNEL_AVX2; int thr=argc>6?atoi(argv[6]):1; int R=argc>7?atoi(argv[7]):7, I=10;
  double *c=malloc(sizeof(double)*64*d); for(int i=0;i<64*d;i++)c[i]=5*nrm();
  void*x=malloc((size_t)n*d*8);
  for(long i=0;i<n;i++){int b=(int)(u01()*64);for(int f=0;f<d;f++){double v=c[b*d+f]+nrm(); if(dt==STRATA_FLOAT64)((double*)x)[i*d+f]=v; else ((float*)x)[i*d+f]=(float)v;}}
  double *init=malloc(sizeof(double)*k*d); for(int j=0;j<k;j++)for(int f=0;f<d;f++)init[j*d+f]=dt==STRATA_FLOAT64?((double*)x)[j*d+f]:((float*)x)[j*d+f];
  strata_kmeans*km; if(strata_kmeans_create(&km))return 1;
  if(strata_kmeans_set_int(km,STRATA_KMEANS_K,k)||strata_kmeans_set_int(km,STRATA_KERNEL,kern)||strata_kmeans_set_int(km,STRATA_THREADS,thr)||strata_kmeans_set_double(km,STRATA_KMEANS_TOL,0)||strata_kmeans_set_init_centroids(km,init,k,d))return 2;
  double best[2]={1e9,1e9},bw[2]={1e9,1e9};
  for(int r=0;r<R;r++)for(int m=0;m<2;m++){ if(strata_kmeans_set_int(km,STRATA_KMEANS_MAX_ITER,m?1+I:1))return 3;
    double t0=cpu(),w0=wall(); if(strata_kmeans_fit(km,dt,x,n,d,0,NULL)){fprintf(stderr,"%s\n",strata_kmeans_last_error(km));return 4;} double t=cpu()-t0,w=wall()-w0; if(t<best[m])best[m]=t; if(w<bw[m])bw[m]=w;}
  int64_t it; if(strata_kmeans_result_int(km,STRATA_KMEANS_RESULT_N_ITER,&it))return 5;
  printf("%ld %d %d %s %s T%d cpu_ms/iter %.3f wall_ms/iter %.3f n_iter %lld\n",n,d,k,argv[4],argv[5],thr,(best[1]-best[0])/I*1e3,(bw[1]-bw[0])/I*1e3,(long long)it);
  return 0;}
