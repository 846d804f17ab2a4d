"""Which steps of a regrouping fit can take ``sample_weight``."""

from sklearn.utils._metadata_requests import _routing_enabled
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import has_fit_parameter


def check_weight_consumers(estimator, clusterer):
    """Raise before any work if the estimator or clusterer cannot take weights.

    ``clusterer`` ``None`` (KMeans) and ``"random"`` always can.
    """
    if not passes_weights(estimator):
        raise ValueError(
            f"sample_weight was given but the estimator {estimator!r} does "
            "not accept it: its fit has no sample_weight parameter (for a "
            "pipeline, enable metadata routing and request sample_weight "
            "on a step with set_fit_request)."
        )
    if clusterer is not None and not isinstance(clusterer, str):
        if not has_fit_parameter(clusterer, "sample_weight"):
            raise ValueError(
                f"sample_weight was given but the clusterer {clusterer!r} "
                "does not accept it (its fit has no sample_weight "
                "parameter); use clusterer=None (KMeans), a clusterer "
                "whose fit takes sample_weight, or 'random'."
            )


def passes_weights(estimator):
    """Whether ``estimator.fit(X, y, sample_weight=w)`` takes the weights.

    True when ``fit`` names the parameter, or, with metadata routing on, when
    the estimator (a pipeline, a meta-estimator) routes it to a step that
    requested it.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    if not _routing_enabled():
        return False
    try:
        routing = get_routing_for_object(estimator)
        return "sample_weight" in routing.consumes(
            method="fit", params={"sample_weight"}
        )
    except Exception:  # an object without routing information
        return False
