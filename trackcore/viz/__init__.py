"""Plots of tracking performance and events, saved as PNG files (Agg, no pyplot state)."""

from trackcore.viz.efficiency import VARIABLE_LABELS, errorbar_arrays, plot_binned_rates
from trackcore.viz.event_display import plot_event_display
from trackcore.viz.palette import categorical_colors
from trackcore.viz.quality_scan import plot_quality_scan
from trackcore.viz.scan import plot_scan
from trackcore.viz.summary import METRIC_LABELS, SUMMARY_KEYS, plot_rate_summary, summary_values
from trackcore.viz.tracking_rates import plot_tracking_rates

__all__ = [
    "METRIC_LABELS",
    "SUMMARY_KEYS",
    "VARIABLE_LABELS",
    "categorical_colors",
    "errorbar_arrays",
    "plot_binned_rates",
    "plot_event_display",
    "plot_quality_scan",
    "plot_rate_summary",
    "plot_scan",
    "plot_tracking_rates",
    "summary_values",
]
