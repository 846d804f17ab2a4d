"""SharedNet: a NetClassifier whose identical fits are trained once, charged in full.

Not a benchmark: ``bench_suite.py`` fits ``NetClassifier()`` itself and as
the base of three ``BiasAdjustedClassifier`` (G-mean, minority F1, cost) on
each fold; the three train the same networks on the same inner folds, and
their refit is the plain network of the fold. NetClassifier with
``random_state`` is deterministic on the CPU, so :class:`SharedNet` trains
each distinct (parameters, X, y) once and serves the others from a memo,
while :data:`SharedNet.charged` counts the CPU and wall seconds of every fit
served, so that a method's reported fit time is what it costs alone.
"""

import hashlib
import pickle
import time

import numpy as np

from skimb import NetClassifier


def _digest(*arrays):
    digest = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype}{a.shape}".encode() + a.tobytes())
    return digest.hexdigest()


class SharedNet(NetClassifier):
    """NetClassifier memoised on (parameters, X, y, fit parameters).

    ``memo`` holds ``key -> (pickled fitted net, CPU s, wall s)``;
    ``charged`` the CPU and wall seconds of the fits served from it. Call
    :meth:`clear` after each fold.
    """

    memo = {}
    charged = [0.0, 0.0]

    @classmethod
    def clear(cls):
        cls.memo.clear()

    def fit(self, X, y, **fit_params):
        params = repr(sorted(self.get_params(deep=False).items()))
        arrays = [v for _, v in sorted(fit_params.items()) if v is not None]
        key = (params, tuple(sorted(fit_params)), _digest(X, y, *arrays))
        if key in self.memo:
            state, cpu, wall = self.memo[key]
            self.__dict__.update(pickle.loads(state).__dict__)
            self.charged[0] += cpu
            self.charged[1] += wall
            return self
        start, cpu = time.perf_counter(), time.process_time()
        super().fit(X, y, **fit_params)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - start
        self.memo[key] = (pickle.dumps(self), cpu, wall)
        return self
