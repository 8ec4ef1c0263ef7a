import h5py, numpy as np, sys
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
bad = 0
def visit(name, obj):
    global bad
    if isinstance(obj, h5py.Dataset):
        x, y = a[name][()], b[name][()]
        same = x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        if not same: bad += 1; print("DIFF", name)
a.visititems(visit)
for k in a.attrs:
    if k in ("strata_version", "source"): continue
    if np.asarray(a.attrs[k]).tobytes() != np.asarray(b.attrs[k]).tobytes(): bad += 1; print("DIFF attr", k, a.attrs[k], b.attrs[k])
print("identical" if not bad else f"{bad} differences")
