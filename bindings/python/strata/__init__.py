"""libstrata from Python: k-means customer segmentation with scikit-learn's interface,
RFM scores from transaction logs (``strata.rfm``) and customer lifetime value
(``strata.clv``: BG/NBD + Gamma-Gamma).

Example::

    import numpy as np, strata
    X = np.array([[5, 900], [8, 1100], [3, 1000], [200, 40], [250, 60], [180, 50]], np.float32)
    km = strata.KMeans(n_clusters=2, random_state=42).fit(X)
    km.labels_, km.cluster_centers_, km.inertia_

See docs/python.md of the libstrata sources for the whole story.

The package loads the shared library with ctypes (see ``strata._lib`` for
where it looks; ``STRATA_LIBRARY`` overrides). Failures raise subclasses of
:class:`strata.Error` (see ``strata.errors``).
"""

from . import _lib
from ._version import __version__
from .clv import CLV, clv
from .errors import (ArgumentError, Cancelled, ClosedError, ConvergenceWarning, DTypeError, Error,
                     FileError, InternalError, NotFittedError, OutOfMemoryError,
                     OutputExistsError, StateError)
from .frame import read_frame
from .kmeans import KMeans, MiniBatchKMeans
from .metrics import (calinski_harabasz_score, davies_bouldin_score, silhouette_sample_rows,
                      silhouette_score, sweep)
from .pipeline import TiersResult, tiers
from .profile import (FEATURE_STATS, MOVE_NAMES, STAGE_NAMES, crosstab, lifecycle, migrate,
                      migrate_h5, profile)
from .rfm import RFMResult, rfm, rfm_h5, rfm_score
from .tiers import TierModel, load_model

#: Version string of the loaded C library, e.g. "0.1.0".
library_version = _lib.lib.strata_version_string().decode()
#: Where the C library was loaded from (a path, or a name given to the system loader).
library_path = _lib.path

__all__ = ["KMeans", "MiniBatchKMeans", "TierModel", "load_model", "tiers", "TiersResult",
           "read_frame", "migrate_h5",
           "calinski_harabasz_score", "davies_bouldin_score", "silhouette_score",
           "silhouette_sample_rows", "sweep", "rfm", "rfm_h5", "rfm_score", "RFMResult", "clv", "CLV", "profile",
           "lifecycle", "crosstab", "migrate", "STAGE_NAMES", "MOVE_NAMES", "FEATURE_STATS",
           "Error", "ArgumentError", "DTypeError",
           "FileError", "OutputExistsError", "OutOfMemoryError", "StateError", "NotFittedError",
           "ClosedError", "Cancelled", "InternalError", "ConvergenceWarning", "library_version",
           "library_path", "__version__"]
