"""The older set-up → flowfleet.yaml (`flowfleet import dev.yaml prod.yaml`): one file per
environment merged into one config whose `render` of each environment is exactly that of
its old file.

`files` reads the per-environment files; `merge` factors what they share into `defaults`,
`environments.<env>.overrides` and each deployment's `environments:`. The ECSTask blocks
the files' `ib-block`s name are found by `block_file` (in the repository's Python files)
or `server_blocks` (on the environments' servers, `--from-server`); `ecs_pool` and `pools`
turn them into `ecs` work pools.
"""
