"""scikit-learn's estimator parameter protocol, without scikit-learn.

Like ``sklearn.base.BaseEstimator``: the parameters are the keyword arguments
of the subclass's ``__init__``, which stores each of them unmodified under the
same name. That is what ``sklearn.base.clone``, ``Pipeline`` and grid searches
rely on.
"""

import inspect


class ParamsMixin:
    """get_params / set_params / __repr__ from the ``__init__`` signature."""

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep=True):
        """Parameters of this estimator, as a dict (``deep`` is accepted for
        scikit-learn compatibility; no parameter is itself an estimator)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters by name; they are validated by the next ``fit``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                                 f"Valid parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters
        changed = []
        for name, value in self.get_params().items():
            default = defaults[name].default
            if type(value) is not type(default) or value != default:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"
