import sys, os, json, subprocess
sys.path.insert(0, "/work/main/bench")
import outofcore as oc
path="/work/bigdata/x100m.h5"
for r in range(2):
    for name, root in (("old","/work/wt-old"),("new","/work/main")):
        env=dict(os.environ, PYTHONPATH=root+"/bindings/python", STRATA_LIBRARY=root+"/build/libstrata.so")
        p=subprocess.run([sys.executable,"-c",oc.PASS_TIMER,path,"16","4","1G","2","given"],capture_output=True,text=True,env=env)
        d=json.loads(p.stdout) if p.returncode==0 else p.stderr
        print(name, d if isinstance(d,str) else {k:d[k] for k in d if "pass" in k}, open("/proc/loadavg").read().split()[0], flush=True)
h=min(oc.h5py_read(path, 1<<20) for _ in range(2)); print("h5py", h)
