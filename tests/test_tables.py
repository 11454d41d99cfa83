"""parameter_table puts each fit's numbers where a reader expects them."""

import pytest

import multilevel as ml
from multilevel.tables import parameter_summary, parameter_table
from simdata import faculty_salaries


@pytest.fixture(scope="module")
def sim():
    return faculty_salaries(seed=3, correlation=0.4)


def test_summary_reads_the_fit_it_was_given(sim):
    fit = ml.fit(sim, model="varying_both")
    summary = parameter_summary(fit)
    assert summary["intercept"] == fit.fixed_effects.at["intercept", "estimate"]
    assert summary["slope"] == fit.fixed_effects.at["slope", "estimate"]
    assert summary["department SD"] == fit.group_sd["intercept"]
    assert summary["slope SD"] == fit.group_sd["slope"]
    assert summary["correlation"] == fit.correlation
    assert summary["residual SD"] == fit.residual_sd


def test_table_keeps_the_order_and_only_what_each_model_estimates(sim):
    table = parameter_table(
        {
            "pooled": ml.fit(sim, model="complete_pooling"),
            "slopes": ml.fit(sim, model="varying_slopes"),
        }
    )
    assert list(table.index.get_level_values("model").unique()) == ["pooled", "slopes"]
    assert table.loc["pooled"].index.tolist() == ["intercept", "slope", "residual SD"]
    assert table.loc["slopes"].index.tolist() == ["intercept", "slope", "slope SD", "residual SD"]


def test_an_empty_table_is_refused():
    with pytest.raises(ValueError, match="at least one fit"):
        parameter_table({})
