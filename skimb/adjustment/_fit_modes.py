"""BiasAdjustedClassifier's fitting modes: frozen, validation, training, per epoch.

``BiasAdjustedClassifier.fit`` validates its inputs, then hands off to one of
the methods here; each fits what its mode needs, chooses ``target_`` on the
logits it measures (:meth:`FitModesMixin._choose_target`) and solves
``bias_`` for it (:meth:`FitModesMixin._set_bias`).
"""

import numpy as np
from sklearn.base import clone

from ..metrics import get_scorer
from ._callback import BiasAdjustment
from ._logits import raw_logits
from ._search import score_rule, search_folds
from ._solve import solve_bias
from ._target import SEARCH_TOL, imbalance_state
from ._validation import fold_logits, per_epoch_split


class FitModesMixin:
    """The fitting modes of :class:`~skimb.adjustment.BiasAdjustedClassifier`.

    Reads the classifier's parameters (``scoring``, ``target``, ``search``,
    ``cv``, ``refit``, ``min_improvement``, ``random_state``) and sets its
    fitted attributes; each ``_fit_*`` method returns ``self``.
    """

    def _choose_target(self, folds, prior, weights=None):
        """Set ``target_``, ``best_score_``, ``own_score_``, ``search_results_``.

        ``weights``: ``(train_weight, valid_weight)`` of each fold, or None.
        Returns whether the model's own rule is kept (step 4).
        """
        scorer = get_scorer(self.scoring)
        self.target_, self.best_score_, self.search_results_ = search_folds(
            folds,
            target=self.target,
            search=self.search,
            scoring=self.scoring,
            scorer=scorer,
            classes=self.classes_,
            prior=prior,
            sample_weight=weights,
        )
        self.own_score_ = score_rule(
            np.concatenate([z_valid for _, z_valid, _ in folds]),
            np.concatenate([y_valid for _, _, y_valid in folds]),
            scoring=self.scoring,
            scorer=scorer,
            classes=self.classes_,
            sample_weight=None
            if weights is None
            else np.concatenate([w_valid for _, w_valid in weights]),
        )
        keep_own = (
            isinstance(self.target, str)
            and self.target == "search"
            and self.best_score_ - self.own_score_ <= self.min_improvement
        )
        if keep_own:
            self.best_score_ = self.own_score_
        return keep_own

    def _set_bias(self, z, keep_own=False, sample_weight=None):
        """Set ``bias_`` for ``target_`` on logits ``z``, and the states.

        With ``keep_own`` the bias is zero and ``target_`` the state at it.
        ``sample_weight``: the weights of the rows of ``z``, or None.
        """
        w = sample_weight
        if keep_own:
            self.bias_ = np.zeros(len(self.classes_))
            self.target_ = imbalance_state(z, self.bias_, w)
        else:
            # The tolerance of the search's solves: its scores hold for this bias.
            self.bias_ = solve_bias(z, self.target_, tol=SEARCH_TOL, sample_weight=w)
        self.imbalance_state_ = {
            "before": imbalance_state(z, np.zeros(len(self.classes_)), w),
            "after": imbalance_state(z, self.bias_, w),
        }
        return self

    def _fit_frozen(self, base, X, y_encoded, prior, sample_weight):
        """Frozen estimator: state measured and scored on the data given."""
        self.estimator_ = base
        z = raw_logits(base, X, len(self.classes_))
        w = sample_weight
        weights = None if w is None else [(w, w)]
        keep_own = self._choose_target([(z, z, y_encoded)], prior, weights)
        return self._set_bias(z, keep_own, w)

    def _fit_validation_state(
        self, base, X, y, y_encoded, prior, fit_params, sample_weight
    ):
        """State measured, and candidates scored, on pooled validation logits.

        The bias solved there is transferred to the final model.
        """
        folds, model, weights = fold_logits(
            self,
            base,
            X,
            y,
            y_encoded,
            train_logits=False,
            fit_params=fit_params,
            sample_weight=sample_weight,
        )
        z = np.concatenate([z_valid for _, z_valid, _ in folds])
        y_pooled = np.concatenate([y_valid for _, _, y_valid in folds])
        w = None if weights is None else np.concatenate([v for _, v in weights])
        pooled_weights = None if w is None else [(w, w)]
        keep_own = self._choose_target([(z, z, y_pooled)], prior, pooled_weights)
        self.estimator_ = clone(base).fit(X, y, **fit_params) if self.refit else model
        return self._set_bias(z, keep_own, w)

    def _fit_training_state(
        self, base, X, y, y_encoded, prior, fit_params, sample_weight
    ):
        """The paper's choice: each model's state on its own training data."""
        folds, model, weights = fold_logits(
            self,
            base,
            X,
            y,
            y_encoded,
            train_logits=True,
            fit_params=fit_params,
            sample_weight=sample_weight,
        )
        keep_own = self._choose_target(folds, prior, weights)
        w = sample_weight
        if self.refit:
            self.estimator_ = clone(base).fit(X, y, **fit_params)
            z = raw_logits(self.estimator_, X, len(self.classes_))
        else:  # the model and training logits of the single split
            self.estimator_, z = model, folds[0][0]
            w = None if weights is None else weights[0][0]
        return self._set_bias(z, keep_own, w)

    def _fit_per_epoch(self, base, X, y, fit_params):
        """Train once with the BiasAdjustment callback; read its state."""
        net = clone(base)
        if net.train_split is None:
            net.set_params(train_split=per_epoch_split(self.cv, self.random_state))
        callback = BiasAdjustment(
            scoring=self.scoring, target=self.target, search=self.search
        )
        callbacks = list(net.callbacks or [])
        callbacks.append(("bias_adjustment", callback))
        net.set_params(callbacks=callbacks)
        self.estimator_ = net.fit(X, y, **fit_params)
        callback = dict(net.callbacks_)["bias_adjustment"]
        self.bias_ = callback.bias_
        self.target_ = callback.target_
        self.best_score_ = callback.best_score_
        self.search_results_ = callback.search_results_
        self.imbalance_state_ = callback.imbalance_state_
        return self
