"""Parent runs whose process died: the `all-milestones` run of a `wpflow run --all` killed with
`kill -9` would stay "Running" in Prefect for ever — no hook runs, and a run watched by its
caller sends no heartbeat (`flows.starts.without_heartbeat`). The milestone runs keep their
process in the store's run records (`wpflow.milestone.run_record.dead_runs`); the parent run has
no record there, so it carries its process as a label of the flow run (`label_owner`), and
the next command that runs flows, or `wpflow serve`, closes it as Crashed once that process is
provably gone (`crash_dead_parent_runs`, on `wpflow.store.claim_owner`'s evidence).

No flow here: helpers of the `all-milestones` flow and of what starts runs (orchestration)."""

from __future__ import annotations

PARENT_FLOW = "all-milestones"
OWNER_LABEL = "wpflow.owner"  # the flow run's process, as `wpflow.store.claim_owner` identifies it


def label_owner() -> None:
    """Label the flow run in progress with this process (`wpflow.store.claim_owner`): the evidence
    `crash_dead_parent_runs` checks once the process is gone. The milestone runs keep theirs in
    the store's run records; the `all-milestones` parent run has none."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    from wpflow.store.claim_owner import me

    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(UUID(str(flow_run.id)), {OWNER_LABEL: me().token})


def crash_dead_parent_runs() -> list[str]:
    """`all-milestones` runs that Prefect still shows running whose process provably died (a
    `kill -9`: no hook ran, and a run watched by its caller sends no heartbeat) marked Crashed,
    with the milestone runs they left running; the parents' ids. Called as a command that runs
    flows, and `wpflow serve`, start: a killed `wpflow run --all` is not "Running" for ever."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    from wpflow.store.claim_owner import Owner, is_dead

    unfinished = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING]))
    crashed: list[str] = []
    with get_client(sync_client=True) as client:
        parents = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[PARENT_FLOW])),
            flow_run_filter=FlowRunFilter(state=unfinished),
        )
        for parent in parents:
            token = str(parent.labels.get(OWNER_LABEL) or "")
            if not is_dead(token):
                continue
            owner = Owner.parse(token)
            process = f"{owner.pid} on {owner.host}" if owner else "?"
            why = f"its process ({process}) died before the run ended"
            children = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent.id]), state=unfinished
                )
            )
            for run in [*children, parent]:
                client.set_flow_run_state(run.id, Crashed(message=f"{why}; noticed by the next run"), force=True)
            crashed.append(str(parent.id))
    return crashed
