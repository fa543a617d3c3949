"""The example pipelines of docs/examples run against cmlab, as their CI would run them.

For each of GitHub Actions, GitLab CI and Azure DevOps the test reads the YAML file, takes the shell
steps of the plan job and of the apply job, their environment (pipeline variables and secrets,
resolved from the file's own expressions), and runs them in a workspace laid out as the docs say
a user's repository is: the lab's inventory as `inventories/production`, the lab's desired state in
its group_vars, and the example's credentials file (the WinRM account comes from the job's
environment). The install steps are not run (no network: the collection is the checkout); posting
the plan is: `gh` and `curl` are stand-ins on PATH that write down what would be posted.

The story of a pull request: a first plan fails (the change would move the SCP, and the inventory
does not allow it yet) and is still posted with its failure; the fixed plan passes, is posted and
changes nothing; the merge applies it, and the second run the apply job makes changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from labstate import role_state, scp_roles

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
VENV_BIN = Path(sys.executable).parent
ADMIN = "LAB\\cmadmin"

FAKE_POSTER = r'''#!{python}
"""Stand-in for {tool}: writes down what would be posted instead of posting it."""
import json, os, sys
argv = sys.argv[1:]
record = {{"tool": "{tool}", "argv": argv}}
def body_from(spec):
    with open(spec, encoding="utf-8") as f:
        return f.read()
if "{tool}" == "gh":
    assert argv[:2] == ["pr", "comment"], argv
    record["target"] = argv[2]
    record["body"] = body_from(argv[argv.index("--body-file") + 1])
    record["token"] = os.environ.get("GH_TOKEN", "")
else:
    headers = [argv[i + 1] for i, a in enumerate(argv) if a in ("--header", "-H")]
    record["headers"] = headers
    record["url"] = argv[-1]
    if "--data-urlencode" in argv:
        name, _, spec = argv[argv.index("--data-urlencode") + 1].partition("@")
        record["body"] = body_from(spec)
        record["field"] = name
    if "--data-binary" in argv:
        record["body"] = body_from(argv[argv.index("--data-binary") + 1].lstrip("@"))
with open(os.environ["FAKE_POSTS"], "a", encoding="utf-8") as f:
    f.write(json.dumps(record) + "\n")
'''


@dataclass
class Step:
    name: str
    script: str
    env: dict = field(default_factory=dict)
    always: bool = False  # runs after an earlier step failed (if: always(), after_script, condition: always())
    shell: tuple = ("bash", "--noprofile", "--norc", "-eo", "pipefail")


@dataclass
class Job:
    condition: str
    env: dict
    steps: list[Step]


# Reading the three formats -------------------------------------------------------------------------


def github_jobs(doc: dict, context: dict) -> dict[str, Job]:
    def resolve(value):
        def one(match):
            expr = match.group(1).strip()
            assert expr in context, f"unknown expression ${{{{ {expr} }}}} in github-actions.yml"
            return context[expr]

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))

    jobs = {}
    for name, job in doc["jobs"].items():
        env = {k: resolve(v) for k, v in {**doc.get("env", {}), **job.get("env", {})}.items()}
        steps = []
        for step in job["steps"]:
            if "run" not in step:
                continue
            assert "${{" not in step["run"], f"an expression inside a run script ({step.get('id')}): use env"
            steps.append(
                Step(
                    step["id"],
                    step["run"],
                    {k: resolve(v) for k, v in step.get("env", {}).items()},
                    always=str(step.get("if", "")).startswith("always()"),
                )
            )
        jobs[name] = Job(job["if"], env, steps)
    return jobs


def gitlab_jobs(doc: dict, context: dict) -> dict[str, Job]:
    def expand(value, env):
        return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), str(value))

    jobs = {}
    for name, job in doc.items():
        if name.startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        env = dict(context)
        for key, value in {**doc.get("variables", {}), **job.get("variables", {})}.items():
            env[key] = expand(value, env)
        # before_script and script run in one shell, which stops at the first failure; after_script in its own.
        steps = [Step("install", "\n".join(job.get("before_script", []))), Step("script", "\n".join(job["script"]))]
        if job.get("after_script"):
            steps.append(Step("after_script", "\n".join(job["after_script"]), always=True))
        jobs[name] = Job(json.dumps(job["rules"]), env, steps)
    return jobs


def azure_jobs(doc: dict, context: dict) -> dict[str, Job]:
    def resolve(value):
        def one(match):
            assert match.group(1) in context, f"unknown macro $({match.group(1)}) in azure-pipelines.yml"
            return context[match.group(1)]

        return re.sub(r"\$\(([A-Za-z0-9_.]+)\)", one, str(value))

    def variables(items) -> dict:
        if isinstance(items, dict):
            return dict(items)
        return {item["name"]: item["value"] for item in items or [] if "name" in item}

    jobs = {}
    for stage in doc["stages"]:
        for job in stage["jobs"]:
            name = job.get("job") or job.get("deployment")
            raw = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            env = {**variables(doc.get("variables")), **variables(job.get("variables"))}
            steps = []
            for step in raw:
                if "bash" not in step:
                    continue
                assert not re.search(r"\$\([A-Za-z]", step["bash"]), f"a macro inside a script ({step['name']}): use env"
                # Azure's Bash task runs the script as a file, without -e: the scripts set it themselves.
                steps.append(
                    Step(
                        step["name"],
                        step["bash"],
                        {k: resolve(v) for k, v in step.get("env", {}).items()},
                        always=step.get("condition") == "always()",
                        shell=("bash", "--noprofile", "--norc"),
                    )
                )
            jobs[name] = Job(stage["condition"], env, steps)
    return jobs


# Running a job --------------------------------------------------------------------------------------


@dataclass
class JobRun:
    ok: bool
    failed_step: str | None
    outputs: dict[str, str]
    posts: list[dict]


def run_job(job: Job, workspace: Path, base_env: dict) -> JobRun:
    posts = workspace / "posts.jsonl"
    posts.unlink(missing_ok=True)
    ok, failed_step, outputs = True, None, {}
    for step in job.steps:
        if step.name == "install":
            # pip and ansible-galaxy from the network: not here (the checkout is the collection).
            assert "requirements.txt" in step.script and "collections/requirements.yml" in step.script
            continue
        if not ok and not step.always:
            continue
        env = {**base_env, **{k: str(v) for k, v in job.env.items()}, **step.env, "FAKE_POSTS": str(posts)}
        proc = subprocess.run(
            [*step.shell, "-c", step.script], cwd=workspace, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        outputs[step.name] = proc.stdout + proc.stderr
        if proc.returncode != 0 and ok:
            ok, failed_step = False, step.name
    recorded = [json.loads(line) for line in posts.read_text().splitlines()] if posts.exists() else []
    return JobRun(ok, failed_step, outputs, recorded)


def workspace_for(lab, tmp_path: Path, allow_move: bool) -> Path:
    """The user's repository: examples' files where the docs put them, the lab as inventories/production."""
    ws = tmp_path / "repo"
    if not ws.exists():
        shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns("*.md"))
    inventory = yaml.safe_load(lab.inventory.read_text())
    for key in ("ansible_user", "ansible_password"):  # the credentials come from the job's environment
        inventory["all"]["vars"].pop(key)
    production = ws / "inventories" / "production"
    (production / "hosts.yml").write_text(yaml.safe_dump(inventory))
    for desired in (REPO / "inventories" / "lab" / "group_vars" / "all").iterdir():
        shutil.copy(desired, production / "group_vars" / "all" / desired.name)
    (production / "group_vars" / "all" / "zz_pull_request.yml").write_text(
        f"service_connection_point_allow_move: {str(allow_move).lower()}\n"
    )
    return ws


def base_env(tmp_path: Path) -> dict:
    fakes = tmp_path / "bin"
    fakes.mkdir(exist_ok=True)
    for tool in ("gh", "curl"):
        (fakes / tool).write_text(FAKE_POSTER.format(python=sys.executable, tool=tool))
        (fakes / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CONFIGMGR_", "GITHUB_", "CI_", "SYSTEM_", "BUILD_"))}
    env.update(
        PATH=f"{fakes}:{VENV_BIN}:{os.environ['PATH']}",
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),  # what the install step would do
        ANSIBLE_NOCOLOR="1",
    )
    return env


# The three platforms: their file, where a user puts it, and the context of each job ----------------


def github(lab, tmp_path) -> tuple[Job, Job]:
    password = (lab.state_dir / "password").read_text().strip()
    context = {
        "vars.CONFIGMGR_PLAN_USER": ADMIN,
        "secrets.CONFIGMGR_PLAN_PASSWORD": password,
        "vars.CONFIGMGR_APPLY_USER": ADMIN,
        "secrets.CONFIGMGR_APPLY_PASSWORD": password,
        "github.token": "ghs_fake",
        "github.event.pull_request.number": "42",
    }
    doc = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    assert "pull_request_target" not in doc[True]  # YAML 1.1 reads the key `on` as True
    jobs = github_jobs(doc, context)
    summary = tmp_path / "step_summary.md"
    for job in jobs.values():
        job.env["GITHUB_STEP_SUMMARY"] = str(summary)
    assert "pull_request" in jobs["plan"].condition and "refs/heads/main" in jobs["apply"].condition
    return jobs["plan"], jobs["apply"]


def gitlab(lab, tmp_path) -> tuple[Job, Job]:
    password = (lab.state_dir / "password").read_text().strip()
    plan_ctx = {
        "CONFIGMGR_PLAN_USER": ADMIN,
        "CONFIGMGR_PLAN_PASSWORD": password,
        "CONFIGMGR_PLAN_NOTE_TOKEN": "glpat-fake",
        "CI_API_V4_URL": "https://gitlab.example/api/v4",
        "CI_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": "42",
        "CI_PIPELINE_SOURCE": "merge_request_event",
    }
    # Protected variables exist only in pipelines of protected branches: not in the plan's context.
    apply_ctx = {"CONFIGMGR_APPLY_USER": ADMIN, "CONFIGMGR_APPLY_PASSWORD": password, "CI_PIPELINE_SOURCE": "push"}
    doc = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    plan, apply = gitlab_jobs(doc, plan_ctx)["plan"], gitlab_jobs(doc, apply_ctx)["apply"]
    assert "merge_request_event" in plan.condition and "CI_DEFAULT_BRANCH" in apply.condition
    return plan, apply


def azure(lab, tmp_path) -> tuple[Job, Job]:
    password = (lab.state_dir / "password").read_text().strip()
    context = {
        "CONFIGMGR_PLAN_USER": ADMIN,
        "CONFIGMGR_PLAN_PASSWORD": password,
        "CONFIGMGR_APPLY_USER": ADMIN,
        "CONFIGMGR_APPLY_PASSWORD": password,
        "System.AccessToken": "ado-fake",
    }
    doc = yaml.safe_load((EXAMPLES / "azure-pipelines.yml").read_text())
    jobs = azure_jobs(doc, context)
    predefined = {
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
        "SYSTEM_TEAMPROJECT": "infra",
        "BUILD_REPOSITORY_ID": "repo-id",
        "SYSTEM_PULLREQUEST_PULLREQUESTID": "42",
    }
    for job in jobs.values():
        job.env.update(predefined)
    assert "PullRequest" in jobs["plan"].condition and "refs/heads/main" in jobs["apply"].condition
    return jobs["plan"], jobs["apply"]


def check_post(platform: str, post: dict, plan: str) -> None:
    """What would be posted: the plan, to the pull request, with the job's token."""
    if platform == "azure":
        thread = json.loads(post["body"])
        assert thread["comments"][0]["content"] == plan and thread["status"] == "closed"
    else:
        assert post["body"] == plan
    if platform == "github":
        assert post["tool"] == "gh" and post["target"] == "42" and post["token"] == "ghs_fake"
    elif platform == "gitlab":
        assert post["url"] == "https://gitlab.example/api/v4/projects/7/merge_requests/42/notes"
        assert "PRIVATE-TOKEN: glpat-fake" in post["headers"] and post["field"] == "body"
    else:
        assert post["url"] == ("https://dev.azure.com/contoso/infra/_apis/git/repositories/repo-id/pullRequests/42/threads?api-version=7.1")
        assert "Authorization: Bearer ado-fake" in post["headers"]


@pytest.mark.parametrize("platform", ["github", "gitlab", "azure"])
def test_example_pipeline_plans_on_the_pull_request_and_applies_on_merge(lab, tmp_path, platform):
    plan_job, apply_job = {"github": github, "gitlab": gitlab, "azure": azure}[platform](lab, tmp_path)
    env = base_env(tmp_path)
    before = lab.state()

    # The pull request as first pushed: the plan fails (a move is not allowed yet), and is posted anyway.
    ws = workspace_for(lab, tmp_path, allow_move=False)
    run = run_job(plan_job, ws, env)
    assert not run.ok and run.failed_step in ("plan", "script"), run.outputs
    assert len(run.posts) == 1, run.outputs
    plan = (ws / "plan.md").read_text(encoding="utf-8")
    assert plan.startswith("# configmgr.scp plan\n") and "\n## Failed\n" in plan
    assert "ps1.lab.example (site PS1)" in plan
    check_post(platform, run.posts[0], plan)
    assert lab.state() == before

    # The fixed pull request: the plan passes, is posted, and changes nothing.
    ws = workspace_for(lab, tmp_path, allow_move=True)
    run = run_job(plan_job, ws, env)
    assert run.ok, run.outputs
    plan = (ws / "plan.md").read_text(encoding="utf-8")
    assert plan.startswith("# configmgr.scp plan\n") and "\n## Failed\n" not in plan
    assert "- remove the service connection point from ps1.lab.example (site PS1)" in plan
    assert "- add the service connection point on scp01.lab.example (site CAS, online)" in plan
    assert len(run.posts) == 1
    check_post(platform, run.posts[0], plan)
    if platform == "github":
        assert (tmp_path / "step_summary.md").read_text(encoding="utf-8").endswith(plan)
    assert lab.state() == before

    # Merged: the apply job converges, and its own second run changes nothing.
    run = run_job(apply_job, ws, env)
    assert run.ok, run.outputs
    assert run.posts == []
    applied = (ws / "apply.md").read_text(encoding="utf-8")
    assert applied.startswith("# configmgr.scp apply\n") and "\n## Changed\n" in applied
    assert (ws / "recheck.md").read_text(encoding="utf-8").startswith("# configmgr.scp plan\n")
    state = lab.state()
    assert scp_roles(state) == [("CAS", "scp01.lab.example")]
    assert role_state(state, "scp01.lab.example") == "installed"


def test_the_plan_jobs_never_see_the_apply_credentials():
    github_doc = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    plan = yaml.safe_dump(github_doc["jobs"]["plan"])
    assert "APPLY" not in plan and "configmgr-production" not in plan
    gitlab_doc = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    assert "APPLY" not in yaml.safe_dump(gitlab_doc["plan"])
    azure_doc = yaml.safe_load((EXAMPLES / "azure-pipelines.yml").read_text())
    plan_stage = next(stage for stage in azure_doc["stages"] if stage["stage"] == "plan")
    assert "APPLY" not in yaml.safe_dump(plan_stage) and "configmgr-apply" not in yaml.safe_dump(plan_stage)
