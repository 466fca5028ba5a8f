"""The names of flowfleet.sdk that the package root also offers, loaded on first use."""

# flowfleet.sdk's names, but for its four pipeline-named functions (its __all__ adds them).
SDK_NAMES = (
    "ApplyResult",
    "Config",
    "ConfigError",
    "Deployment",
    "EnvironmentPlan",
    "FlowfleetError",
    "LoadedConfig",
    "Location",
    "PlanError",
    "Problem",
    "ValidationFailed",
    "aapply",
    "aplan",
    "build",
    "load",
)
