#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include "strata.h"
static double now(void){struct timespec t;clock_gettime(getenv("CPUT")?CLOCK_PROCESS_CPUTIME_ID:CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static double gauss(unsigned *s){double u=(rand_r(s)+1.0)/(RAND_MAX+2.0),v=(rand_r(s)+1.0)/(RAND_MAX+2.0);return sqrt(-2*log(u))*cos(6.283185307*v);}
int main(int argc,char**argv){
  long n=argc>1?atol(argv[1]):1000000; int d=getenv("D")?atoi(getenv("D")):6; int k=argc>2?atoi(argv[2]):8; int th=argc>3?atoi(argv[3]):2;
  int algo=argc>4?atoi(argv[4]):0; int dt=argc>5?atoi(argv[5]):0;
  float *x=malloc(sizeof(float)*n*d); double *xd=malloc(sizeof(double)*n*d); unsigned s=1;
  for(long i=0;i<n;i++){int t=rand_r(&s)%5; for(int f=0;f<d;f++){double v=t*0.6+gauss(&s); x[i*d+f]=(float)v; xd[i*d+f]=v;}}
  double *c=malloc(sizeof(double)*k*d); for(int j=0;j<k;j++)for(int f=0;f<d;f++)c[j*d+f]=x[(long)j*7919*d+f];
  for(int mi=getenv("MI")?atoi(getenv("MI")):300;mi<=(getenv("MI")?atoi(getenv("MI")):300);mi++){
   for(int rep=0;rep<3;rep++){
    strata_kmeans*km; if(strata_kmeans_create(&km))return 1;
    if(strata_kmeans_set_int(km,STRATA_KMEANS_K,k)||strata_kmeans_set_int(km,STRATA_KMEANS_MAX_ITER,mi)||strata_kmeans_set_int(km,STRATA_THREADS,th)||strata_kmeans_set_int(km,STRATA_KMEANS_ALGORITHM,algo))return 2;
    if(getenv("KERN")&&strata_kmeans_set_int(km,STRATA_KERNEL,atoi(getenv("KERN"))))return 4;
    if(getenv("SEEDPP")){if(strata_kmeans_set_int(km,STRATA_KMEANS_INIT,atoi(getenv("SEEDPP"))))return 5;} else if(strata_kmeans_set_init_centroids(km,c,k,d))return 3;
    double t0=now(); int rc=strata_kmeans_fit(km,dt?STRATA_FLOAT64:STRATA_FLOAT32,dt?(void*)xd:(void*)x,n,d,0,NULL); double t1=now();
    int64_t it; double in; (void)strata_kmeans_result_int(km,STRATA_KMEANS_RESULT_N_ITER,&it); (void)strata_kmeans_result_double(km,STRATA_KMEANS_RESULT_INERTIA,&in);
    printf("max_iter %d rc %d: %.4f s, %ld iters, inertia %.10g\n",mi,rc,t1-t0,(long)it,in);
    strata_kmeans_free(km);}
  }
  return 0;}
