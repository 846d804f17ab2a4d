"""BiasAdjustedClassifier's fitting modes: frozen, validation, training, per epoch.

``BiasAdjustedClassifier.fit`` validates its inputs, then hands off to one of
the methods here; each fits what its mode needs, chooses ``target_`` on the
logits it measures (:meth:`FitModesMixin._choose_target`) and solves
``bias_`` for it (:meth:`FitModesMixin._set_bias`).
"""

from typing import NamedTuple

import numpy as np
from scipy.special import expit
from sklearn.base import clone

from ..metrics import get_scorer
from ._callback import BiasAdjustment
from ._cost_rule import cost_rule_bias
from ._cross_fit import CROSS_FIT_BELOW, cross_fitted_gain, pool_validation
from ._ensemble import FoldEnsemble
from ._logits import raw_logits
from ._search import score_rule, search_folds
from ._solve import solve_bias
from ._target import SEARCH_TOL, imbalance_state
from ._validation import fold_logits, per_epoch_split

# The fixed rules of step 4 for three or more classes: bias -tau * log(prior)
# (tau = 0: the model's own rule; tau = 1: the post-hoc logit adjustment of
# Menon et al., 2021). Two classes keep only the own rule: their search is
# itself one-dimensional, and these are points of it (with them, an
# exploratory run on the decision-layer sets lost gradient boosting's minority
# F1 on one set more). The Bayes rule of a cost matrix is no search's choice:
# it is a fixed rule for any number of classes (``_cost_rule``).
PRIOR_CORRECTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


class _FixedRule(NamedTuple):
    """A fixed rule of step 4, scored on the pooled validation logits."""

    name: str  # "own", "prior correction" or "cost"
    tau: float | None  # of a prior correction (0.0: the own rule)
    score: float
    bias: np.ndarray
    feasible: bool  # meets the constraints (True without)
    values: object  # the constraints' values, or None


def _imbalance_states(logits, bias, sample_weight=None):
    """The states at bias zero and at ``bias`` (:func:`imbalance_state`).

    For two classes the margins are computed once for both.
    """
    if logits.shape[1] != 2:
        zero = np.zeros(logits.shape[1])
        return (
            imbalance_state(logits, zero, sample_weight),
            imbalance_state(logits, bias, sample_weight),
        )
    margins = logits[:, 1] - logits[:, 0]
    states = []
    for p1 in (expit(margins), expit(margins + bias[1] - bias[0])):
        p1 = float(
            np.mean(p1)
            if sample_weight is None
            else np.average(p1, weights=sample_weight)
        )
        states.append(np.array([1 - p1, p1]))
    return tuple(states)


class FitModesMixin:
    """The fitting modes of :class:`~skimb.adjustment.BiasAdjustedClassifier`.

    Reads the classifier's parameters (``scoring``, ``target``, ``search``,
    ``cv``, ``refit``, ``min_improvement``, ``probabilities``,
    ``random_state``) and the validated constraints ``_constraints``, and
    sets its fitted attributes; each ``_fit_*`` method returns ``self``.
    """

    def _choose_target(self, folds, prior, weights=None):
        """Set ``target_``, ``best_score_``, ``own_score_``, ``search_results_``.

        With constraints also ``constraint_values_``; with calibrated
        probabilities ``calibrator_``, fitted on the pooled validation logits.
        ``weights``: ``(train_weight, valid_weight)`` of each fold, or None.
        Sets ``prior_correction_``; returns the bias of the fixed rule that
        step 4 keeps, or None when the searched target is used. The bias the
        search solved for ``target_`` on a single fold's training logits is
        kept in ``_search_bias`` (None otherwise) for :meth:`_set_bias`.
        """
        scorer = get_scorer(self.scoring)
        constraints = self._constraints

        def search(folds, weights):
            return search_folds(
                folds,
                target=self.target,
                search=self.search,
                scoring=self.scoring,
                scorer=scorer,
                classes=self.classes_,
                prior=prior,
                sample_weight=weights,
                constraints=constraints,
                return_fold_bias=True,
                n_bootstrap=getattr(self, "_n_bootstrap", 0),
                random_state=self.random_state,
            )

        def search_half(folds, weights):
            """The target, and the fold biases it was scored with (or None)."""
            target, _, _, fold_bias = search(folds, weights)
            return target, fold_bias

        found = search(folds, weights)
        self.target_, self.best_score_, self.search_results_, fold_bias = found
        self._search_bias = (
            fold_bias[0] if fold_bias is not None and len(folds) == 1 else None
        )
        z_valid, y_valid, w_valid = pool_validation(folds, weights)
        rules = self._fixed_rules(z_valid, y_valid, w_valid, prior, scorer)
        self.own_score_ = rules[0].score
        feasible = [rule for rule in rules if rule.feasible]
        fixed = max(feasible, key=lambda rule: rule.score, default=None)
        self.search_gain_ = None
        searched = isinstance(self.target, str) and self.target == "search"
        if searched and fixed:
            self.search_gain_ = self.best_score_ - fixed.score
            smallest = np.bincount(y_valid, minlength=self.classes_.size).min()
            cross_fit = constraints is None and smallest < CROSS_FIT_BELOW
            # -inf uses the search whatever the gain: no cross-fit to pay for
            if cross_fit and self.min_improvement > -np.inf:
                self.search_gain_ = cross_fitted_gain(
                    folds,
                    weights,
                    search=search_half,
                    fixed_rule=lambda z, y, w: self._fixed_rules(
                        z, y, w, prior, scorer, best=True
                    ),
                    scoring=self.scoring,
                    scorer=scorer,
                    classes=self.classes_,
                )
        keep = self.search_gain_ is not None and (
            self.search_gain_ <= self.min_improvement
        )
        self.prior_correction_ = fixed.tau if keep else None
        self.decision_rule_ = fixed.name if keep else "search" if searched else "target"
        if keep:
            self.best_score_ = fixed.score
        if constraints is not None:
            values = fixed.values if keep else self._rule_values(folds, weights)
            self.constraint_values_ = constraints.as_dict(values)
        self._fit_calibrator(z_valid, y_valid, w_valid)
        return fixed.bias if keep else None

    def _fixed_rules(self, z, y, w, prior, scorer, best=False):
        """The fixed rules of step 4, scored on pooled validation logits ``z``.

        The model's own rule (no bias); for three or more classes, its
        prior corrections: the bias ``-tau * log(prior)`` for each ``tau`` of
        ``PRIOR_CORRECTIONS``; for a cost scorer, the Bayes rule of its cost
        matrix where that is a bias (:func:`cost_rule_bias`). Returns a
        :class:`_FixedRule` for each; with ``best``, the bias of the best (no
        constraints; the first in that order on a tie).
        """
        constraints = self._constraints
        log_prior = np.log(prior)
        taus = PRIOR_CORRECTIONS if prior.size > 2 else PRIOR_CORRECTIONS[:1]
        candidates = [
            (
                "own" if tau == 0 else "prior correction",
                tau,
                -tau * (log_prior - log_prior.mean()),
            )
            for tau in taus
        ]
        cost_bias = cost_rule_bias(scorer, self.classes_)
        if cost_bias is not None:
            candidates.append(("cost", None, cost_bias))
        rules = []
        for name, tau, bias in candidates:
            adjusted = z + bias
            score = score_rule(
                adjusted,
                y,
                scoring=self.scoring,
                scorer=scorer,
                classes=self.classes_,
                sample_weight=w,
            )
            values = None
            if constraints is not None:
                values = constraints.values(y, np.argmax(adjusted, axis=1), w)
            feasible = values is None or constraints.shortfall(values) == 0
            rules.append(_FixedRule(name, tau, score, bias, feasible, values))
        if best:
            return max(rules, key=lambda rule: rule.score).bias
        return rules

    def _rule_values(self, folds, weights):
        """Constraint values of ``target_`` on the pooled validation rows.

        The bias of each fold is solved on its training logits, as in the
        search, and the adjusted validation predictions are pooled.
        """
        preds, ys, ws = [], [], []
        for i, (z_train, z_valid, y_valid) in enumerate(folds):
            w_train, w_valid = (None, None) if weights is None else weights[i]
            bias = solve_bias(
                z_train, self.target_, tol=SEARCH_TOL, sample_weight=w_train
            )
            preds.append(np.argmax(z_valid + bias, axis=1))
            ys.append(y_valid)
            ws.append(np.ones(len(y_valid)) if w_valid is None else w_valid)
        return self._constraints.values(
            np.concatenate(ys), np.concatenate(preds), np.concatenate(ws)
        )

    def _set_bias(self, z, kept=None, sample_weight=None, solved=None):
        """Set ``bias_`` for ``target_`` on logits ``z``, and the states.

        With ``kept`` (the bias of the fixed rule step 4 keeps) the bias is
        ``kept`` and ``target_`` the state it reaches on ``z``.
        ``sample_weight``: the weights of the rows of ``z``, or None.
        ``solved``: the bias the search solved for ``target_`` on these same
        logits and weights (``_search_bias``), used instead of a new solve.
        """
        w = sample_weight
        if kept is not None:
            self.bias_ = np.asarray(kept, dtype=np.float64)
            before, after = _imbalance_states(z, self.bias_, w)
            self.target_ = after.copy()
        else:
            if solved is not None:
                self.bias_ = np.asarray(solved, dtype=np.float64)
            else:
                # The tolerance of the search's solves: its scores hold for it.
                self.bias_ = solve_bias(
                    z, self.target_, tol=SEARCH_TOL, sample_weight=w
                )
            before, after = _imbalance_states(z, self.bias_, w)
        self.imbalance_state_ = {"before": before, "after": after.copy()}
        return self

    def _fit_frozen(self, base, X, y_encoded, prior, sample_weight):
        """Frozen estimator: state measured and scored on the data given."""
        self.estimator_ = base
        z = raw_logits(base, X, len(self.classes_))
        w = sample_weight
        weights = None if w is None else [(w, w)]
        fixed_bias = self._choose_target([(z, z, y_encoded)], prior, weights)
        return self._set_bias(z, fixed_bias, w, self._search_bias)

    def _fit_validation_state(
        self, base, X, y, y_encoded, prior, fit_params, sample_weight
    ):
        """State measured, and candidates scored, on pooled validation logits.

        The bias solved there is transferred to the final model.
        """
        folds, models, weights = fold_logits(
            self,
            base,
            X,
            y,
            y_encoded,
            train_logits=False,
            fit_params=fit_params,
            sample_weight=sample_weight,
        )
        z, y_pooled, w = pool_validation(folds, weights)
        pooled_weights = None if w is None else [(w, w)]
        fixed_bias = self._choose_target([(z, z, y_pooled)], prior, pooled_weights)
        self.estimator_ = self._final_model(base, X, y, fit_params, models)
        return self._set_bias(z, fixed_bias, w, self._search_bias)

    def _fit_training_state(
        self, base, X, y, y_encoded, prior, fit_params, sample_weight
    ):
        """The paper's choice: each model's state on its own training data."""
        folds, models, weights = fold_logits(
            self,
            base,
            X,
            y,
            y_encoded,
            train_logits=True,
            fit_params=fit_params,
            sample_weight=sample_weight,
        )
        fixed_bias = self._choose_target(folds, prior, weights)
        w, solved = sample_weight, None
        kept = len(models) > 1 if self.ensemble else self.refit
        if kept:  # the fold models together, or the refit: logits of all X
            self.estimator_ = self._final_model(base, X, y, fit_params, models)
            z = raw_logits(self.estimator_, X, len(self.classes_))
        else:  # the model and training logits of the single split
            self.estimator_, z = models[-1], folds[0][0]
            w = None if weights is None else weights[0][0]
            solved = self._search_bias
        return self._set_bias(z, fixed_bias, w, solved)

    def _final_model(self, base, X, y, fit_params, models):
        """The fold models kept together, the refit, or the single split's."""
        if self.ensemble:  # a single split's model needs no wrapper
            if len(models) == 1:
                return models[0]
            return FoldEnsemble(models, self.classes_).fit()
        if self.refit:
            return clone(base).fit(X, y, **fit_params)
        return models[-1]

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
