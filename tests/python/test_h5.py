"""fit_h5 and write_h5 against data written and read with h5py."""

import pickle

import numpy as np
import pytest

import strata
from conftest import make_blobs

h5py = pytest.importorskip("h5py", reason="h5py is not installed")


@pytest.fixture
def data():
    X, _, _ = make_blobs(3000, 5, 4, seed=7)
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_fit_h5_equals_fit(tmp_path, data, dtype):
    X = (data * 10).astype(dtype)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("group/features", data=X, chunks=(500, 5), compression="gzip")
    from_file = strata.KMeans(4, random_state=3).fit_h5(path, "/group/features")
    expected_dtype = np.float32 if dtype == np.float32 else np.float64
    in_memory = strata.KMeans(4, random_state=3).fit(X.astype(expected_dtype))
    np.testing.assert_array_equal(from_file.labels_, in_memory.labels_)
    np.testing.assert_array_equal(from_file.cluster_centers_, in_memory.cluster_centers_)
    assert from_file.inertia_ == in_memory.inertia_ and from_file.n_iter_ == in_memory.n_iter_
    assert from_file.n_features_in_ == 5
    np.testing.assert_array_equal(from_file.predict(X), in_memory.labels_)


def test_fit_h5_errors(tmp_path, data):
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = data
        f["flat"] = data[:, 0]
    km = strata.KMeans(4)
    with pytest.raises(strata.FileError, match="missing.h5") as info:
        km.fit_h5(tmp_path / "missing.h5", "/x")
    assert isinstance(info.value, OSError) and info.value.code == -201
    with pytest.raises(strata.FileError, match="nope") as info:
        km.fit_h5(path, "/nope")
    assert info.value.code == -203
    with pytest.raises(strata.FileError) as info:
        km.fit_h5(path, "/flat")
    assert info.value.code == -204
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(strata.FileError) as info:
        km.fit_h5(tmp_path / "text.h5", "/x")
    assert info.value.code == -202


def test_h5_paths_with_nul(tmp_path, data):
    """A NUL would cut the path in C and open another file: a ValueError."""
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = data
    km = strata.KMeans(4)
    with pytest.raises(ValueError, match="null character"):
        km.fit_h5(str(path) + "\0.other", "/x")  # C would open in.h5
    with pytest.raises(ValueError, match="null character"):
        km.fit_h5(path, "/x\0y")
    km.fit_h5(path, "/x")
    out = tmp_path / "out.h5"
    with pytest.raises(ValueError, match="null character"):
        km.write_h5(str(out) + "\0.h5")
    assert not out.exists()


def test_write_h5_layout(tmp_path, data):
    km = strata.KMeans(4, random_state=5).fit(data)
    out = tmp_path / "out.h5"
    km.write_h5(out, source="customers")
    with h5py.File(out, "r") as f:
        assert f["labels"].dtype == np.int32 and f["centroids"].dtype == np.float64
        np.testing.assert_array_equal(f["labels"][()], km.labels_)
        np.testing.assert_array_equal(f["centroids"][()], km.cluster_centers_)
        attrs = dict(f.attrs)
    assert attrs["k"] == 4 and attrs["n_iter"] == km.n_iter_ and attrs["converged"] == 1
    assert attrs["inertia"] == km.inertia_ and attrs["seed"] == 5
    assert attrs["source"] == "customers" and attrs["strata_version"] == strata.library_version
    assert "algorithm" in attrs


def test_write_h5_source_and_overwrite(tmp_path, data):
    src = tmp_path / "in.h5"
    with h5py.File(src, "w") as f:
        f["x"] = data
    km = strata.KMeans(4, random_state=5).fit_h5(src, "/x")
    out = tmp_path / "out.h5"
    km.write_h5(out)
    with h5py.File(out, "r") as f:
        assert f.attrs["source"] == f"{src}:/x"
    with pytest.raises(strata.OutputExistsError) as info:
        km.write_h5(out)
    assert isinstance(info.value, FileExistsError) and info.value.code == -206
    km.fit(data[:100])
    km.write_h5(out, force=True)
    with h5py.File(out, "r") as f:
        assert f["labels"].shape == (100,) and f.attrs["source"] == ""


def test_write_h5_needs_a_fitted_model(tmp_path, data):
    with pytest.raises(strata.NotFittedError):
        strata.KMeans(4).write_h5(tmp_path / "out.h5")
    restored = pickle.loads(pickle.dumps(strata.KMeans(4, random_state=0).fit(data)))
    with pytest.raises(strata.StateError, match="unpickled"):
        restored.write_h5(tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
