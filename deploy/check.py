"""Validates every deployment file offline (run by deploy/check.sh from `make test`).

- Kubernetes manifests (deploy/kubernetes/*.yaml): built-in kinds against the real Kubernetes
  JSON schemas bundled by kubernetes-validate (strict: unknown fields are errors, as with
  `kubectl apply`'s default field validation); SpinApp and SpinAppExecutor against
  deploy/kubernetes/schemas/, whose core types resolve to the same Kubernetes definitions.
- The ConfigMap the migration Job mounts, built as `kubectl create configmap --from-file` does.
- Cross-file facts: every SpinApp variable is a spin.toml variable and every required one is
  bound; every Secret key referenced exists in the example Secret; the example Secrets hold
  placeholders only; listed components exist and serve HTTP; health check paths are served
  routes; the runtime configs parse with Redis key-value.
- Prometheus rules (deploy/prometheus/alerts.yml): with promtool when installed, and always:
  every metric an expression names is one GET /api/metrics exports.

Then a self-check: deliberately broken copies of the manifests must each fail, so a validator
that accepts everything cannot pass.
"""

import copy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import kubernetes_validate
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S_VERSION = "1.30.0"
KUBE = os.path.join(ROOT, "deploy", "kubernetes")
SCHEMAS = os.path.join(KUBE, "schemas")


def rel(path):
    return os.path.relpath(path, ROOT)


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def k8s_definitions():
    pkg = os.path.dirname(kubernetes_validate.__file__)
    path = os.path.join(pkg, "kubernetes-json-schema", f"v{K8S_VERSION}-local-strict", "_definitions.json")
    with open(path) as f:
        return json.load(f)


DEFINITIONS = Resource.from_contents(k8s_definitions())
CUSTOM = {}
for path in glob.glob(os.path.join(SCHEMAS, "*.json")):
    with open(path) as f:
        schema = json.load(f)
    CUSTOM[schema["properties"]["kind"]["const"]] = schema


def validate_doc(doc):
    """Answers a list of error strings for one manifest."""
    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
        return ["not a Kubernetes object (kind and apiVersion required)"]
    kind = doc["kind"]
    if kind in CUSTOM:
        schema = CUSTOM[kind]
        registry = DEFINITIONS @ Registry()
        validator = Draft202012Validator(schema, registry=registry)
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
        ]
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        return []
    except kubernetes_validate.SchemaNotFoundError as e:
        return [f"no schema for {kind} {doc['apiVersion']}: {e}"]
    except kubernetes_validate.ValidationError as e:
        path = "/".join(str(p) for p in e.path) or "(root)"
        return [f"{path}: {e.message}"]


def migrations_configmap():
    """The ConfigMap `kubectl create configmap xmp-migrations --from-file=migrations/
    --from-file=deploy/migrate.sh` makes (apply.sh)."""
    data = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "migrations", "*.sql"))):
        with open(path) as f:
            data[os.path.basename(path)] = f.read()
    with open(os.path.join(ROOT, "deploy", "migrate.sh")) as f:
        data["migrate.sh"] = f.read()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "xmp-migrations"},
        "data": data,
    }


def manifests():
    """(file, docs) for every Kubernetes manifest, plus the generated ConfigMap."""
    out = []
    for path in sorted(glob.glob(os.path.join(KUBE, "*.yaml"))):
        out.append((rel(path), load_docs(path)))
    out.append(("(generated) ConfigMap xmp-migrations", [migrations_configmap()]))
    return out


def spin_manifest():
    with open(os.path.join(ROOT, "spin.toml"), "rb") as f:
        return tomllib.load(f)


def by_kind(all_docs, kind, name=None):
    return [d for d in all_docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]


def served_paths():
    with open(os.path.join(ROOT, "crates", "common", "openapi.json")) as f:
        return set(json.load(f)["paths"].keys())


def cross_checks(all_docs):
    errors = []
    spin = spin_manifest()
    variables = spin["variables"]
    secrets = {d["metadata"]["name"]: d for d in by_kind(all_docs, "Secret")}

    def secret_has(name, key, where):
        if name not in secrets:
            errors.append(f"{where}: Secret {name} is not in secret.example.yaml")
        elif key not in secrets[name].get("stringData", {}) and key not in secrets[name].get("data", {}):
            errors.append(f"{where}: Secret {name} has no key {key}")

    for secret in secrets.values():
        for key, value in secret.get("stringData", {}).items():
            if value and "CHANGE_ME" not in value:
                errors.append(f"Secret {secret['metadata']['name']}/{key}: example values must be placeholders (CHANGE_ME)")
        if "data" in secret:
            errors.append(f"Secret {secret['metadata']['name']}: use stringData placeholders, not data")

    apps = by_kind(all_docs, "SpinApp")
    if len(apps) != 1:
        errors.append(f"expected one SpinApp, found {len(apps)}")
    http_components = {t["component"] for t in spin["trigger"].get("http", [])}
    for app in apps:
        spec = app["spec"]
        bound = set()
        for var in spec.get("variables", []):
            name = var["name"]
            bound.add(name)
            if name not in variables:
                errors.append(f"SpinApp variable {name} is not declared in spin.toml [variables]")
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret_has(ref["name"], ref["key"], f"SpinApp variable {name}")
            elif variables.get(name, {}).get("secret"):
                errors.append(f"SpinApp variable {name} is secret in spin.toml: take it from a Secret")
        for name, decl in variables.items():
            if decl.get("required") and name not in bound:
                errors.append(f"SpinApp does not bind required variable {name}")
        for component in spec.get("components", []):
            if component not in http_components:
                errors.append(f"SpinApp component {component} has no HTTP trigger in spin.toml")
        for missing in sorted(http_components - set(spec.get("components", http_components))):
            errors.append(f"SpinApp leaves out HTTP component {missing}")
        paths = served_paths()
        for probe in ("readiness", "liveness"):
            path = spec.get("checks", {}).get(probe, {}).get("httpGet", {}).get("path")
            if path is None:
                errors.append(f"SpinApp has no {probe} check")
            elif path not in paths:
                errors.append(f"SpinApp {probe} path {path} is not a documented route")
        if spec.get("checks", {}).get("readiness", {}).get("httpGet", {}).get("path") != "/api/health":
            errors.append("SpinApp readiness must use /api/health")
        rc = spec.get("runtimeConfig", {}).get("loadFromSecret")
        if rc:
            secret_has(rc, "runtime-config.toml", "SpinApp runtimeConfig")
            if rc in secrets:
                errors += runtime_config_errors(secrets[rc]["stringData"]["runtime-config.toml"], f"Secret {rc}")
        executor = spec.get("executor")
        if executor and not by_kind(all_docs, "SpinAppExecutor", executor):
            errors.append(f"SpinApp executor {executor} is not defined in executor.yaml")

    for kind in ("Job", "Deployment"):
        for doc in by_kind(all_docs, kind):
            pod = doc["spec"]["template"]["spec"]
            for c in pod["containers"]:
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        secret_has(ref["name"], ref["key"], f"{kind} {doc['metadata']['name']} env {env['name']}")
            for vol in pod.get("volumes", []):
                cm = vol.get("configMap", {}).get("name")
                if cm and not by_kind(all_docs, "ConfigMap", cm):
                    errors.append(f"{kind} {doc['metadata']['name']} mounts unknown ConfigMap {cm}")

    ticks = [d for d in by_kind(all_docs, "Deployment") if "scheduler/tick" in json.dumps(d)]
    if not ticks:
        errors.append("no Deployment calls /internal/scheduler/tick")
    cm = by_kind(all_docs, "ConfigMap", "xmp-migrations")
    if cm:
        size = sum(len(k) + len(v.encode()) for k, v in cm[0]["data"].items())
        if size > 1024 * 1024:
            errors.append(f"ConfigMap xmp-migrations is {size} bytes, over Kubernetes' 1 MiB")
    return errors


def runtime_config_errors(text, where):
    try:
        rc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [f"{where}: runtime config is not TOML: {e}"]
    kv = rc.get("key_value_store", {}).get("default", {})
    errors = []
    if kv.get("type") != "redis" or not str(kv.get("url", "")).startswith("redis"):
        errors.append(f"{where}: key_value_store.default must be Redis with a redis:// url")
    for provider in rc.get("config_provider", []):
        if provider.get("type") == "vault":
            for field in ("url", "token", "mount"):
                if field not in provider:
                    errors.append(f"{where}: vault config_provider needs {field}")
    return errors


def self_hosted_errors():
    errors = []
    for path in ("deploy/self-hosted/runtime-config.toml", "deploy/runtime-config.redis.toml"):
        with open(os.path.join(ROOT, path)) as f:
            errors += runtime_config_errors(f.read(), path)
    with open(os.path.join(ROOT, "deploy/self-hosted/xmp.service")) as f:
        unit = f.read()
    for needle in ("Requires=xmp-migrate.service", "After=", "xmp-migrate.service", "spin up", "--runtime-config-file"):
        if needle not in unit:
            errors.append(f"deploy/self-hosted/xmp.service lacks {needle}")
    if "trigger-cron --version 0.3.0" not in unit:
        errors.append("deploy/self-hosted/xmp.service must name the trigger-cron plugin version 0.3.0")
    spin = spin_manifest()
    for path in ("deploy/self-hosted/xmp.env.example",):
        with open(os.path.join(ROOT, path)) as f:
            for line in f:
                m = re.match(r"SPIN_VARIABLE_([A-Z0-9_]+)=", line)
                if m and m.group(1).lower() not in spin["variables"]:
                    errors.append(f"{path}: {m.group(1).lower()} is not a spin.toml variable")
    out = subprocess.run(["sh", os.path.join(ROOT, "deploy/without-cron.sh"), os.path.join(ROOT, "spin.toml")],
                         capture_output=True, text=True, check=True).stdout
    stripped = tomllib.loads(out)
    if "cron" in stripped.get("trigger", {}):
        errors.append("deploy/without-cron.sh left a cron trigger")
    if stripped["trigger"]["http"] != spin["trigger"]["http"] or stripped["component"] != spin["component"]:
        errors.append("deploy/without-cron.sh changed more than the cron trigger")
    return errors


METRIC_NAME = re.compile(r"\b(xmp_[a-z0-9_]+)\b")


def exported_metrics():
    """Metric families GET /api/metrics exports: the names in crates/scheduler/src/metrics/ (tests left out)."""
    folder = os.path.join(ROOT, "crates", "scheduler", "src", "metrics")
    if not os.path.isdir(folder):
        return None
    names = set()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".rs"):
            with open(os.path.join(folder, name)) as f:
                source = f.read().split("#[cfg(test)]")[0]
            names |= set(re.findall(r'"(xmp_[a-z0-9_]+)"', source))
    return names or None


def alert_errors(path):
    if not os.path.exists(path):
        return []
    errors = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    exported = exported_metrics()
    if exported is None:
        errors.append("crates/scheduler/src/metrics/ holds no metric names: cannot check the rules' metric names")
    names = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            names.append(rule.get("alert") or rule.get("record"))
            for metric in METRIC_NAME.findall(rule.get("expr", "")):
                base = re.sub(r"_(bucket|sum|count)$", "", metric)
                if exported is not None and metric not in exported and base not in exported:
                    errors.append(f"{rel(path)}: {rule.get('alert')} uses {metric}, which /api/metrics does not export")
    promtool = shutil.which("promtool")
    if promtool:
        tests = path.replace(".yml", ".test.yml")
        for args in (["check", "rules", path], ["test", "rules", tests]):
            r = subprocess.run([promtool, *args], capture_output=True, text=True, cwd=os.path.dirname(path))
            if r.returncode != 0:
                errors.append(f"promtool {' '.join(args[:2])} {rel(args[2])}:\n{r.stdout}{r.stderr}")
    else:
        print("  (promtool not installed: rules checked for YAML and metric names only)")
    return errors


def alert_self_check():
    """A rule naming a metric /api/metrics does not export must be refused."""
    import tempfile
    src = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
    if not os.path.exists(src):
        return []
    with open(src) as f:
        text = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        broken = os.path.join(tmp, "alerts.yml")
        with open(broken, "w") as f:
            f.write(text.replace("xmp_posts_oldest_due_age_seconds", "xmp_posts_oldest_due_age"))
        with open(os.path.join(ROOT, "deploy", "prometheus", "alerts.test.yml")) as f:
            tests = f.read()
        with open(os.path.join(tmp, "alerts.test.yml"), "w") as f:
            f.write(tests)
        if not any("does not export" in e for e in alert_errors(broken)):
            return ["self-check: an alert rule with an unknown metric name passed"]
    print("deploy check self-test: an alert on an unknown metric refused")
    return []


def check_all(sets):
    errors = []
    all_docs = []
    for name, docs in sets:
        for doc in docs:
            for e in validate_doc(doc):
                errors.append(f"{name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}: {e}")
            all_docs.append(doc)
    try:
        errors += cross_checks(all_docs)
    except (KeyError, TypeError, AttributeError) as e:
        # Only reachable when the schemas above already refused the shape.
        errors.append(f"cross-file checks could not read a malformed manifest: {e!r}")
    return errors


def find(sets, kind, name=None):
    for _, docs in sets:
        for doc in docs:
            if doc.get("kind") == kind and (name is None or doc["metadata"]["name"] == name):
                return doc
    raise KeyError(kind)


def broken_copies():
    """Each (description, mutate) must make check_all report at least one error."""
    def m(kind, fn, name=None):
        def apply(sets):
            fn(find(sets, kind, name))
        return apply

    return [
        ("SpinApp: unknown spec field", m("SpinApp", lambda d: d["spec"].__setitem__("replica", 2))),
        ("SpinApp: replicas as a string", m("SpinApp", lambda d: d["spec"].__setitem__("replicas", "2"))),
        ("SpinApp: no image", m("SpinApp", lambda d: d["spec"].pop("image"))),
        ("SpinApp: replicas with autoscaling", m("SpinApp", lambda d: d["spec"].__setitem__("enableAutoscaling", True))),
        ("SpinApp: variable from a malformed secretKeyRef (no key)",
         m("SpinApp", lambda d: d["spec"]["variables"][-1]["valueFrom"]["secretKeyRef"].pop("key"))),
        ("SpinApp: health probe without a path", m("SpinApp", lambda d: d["spec"]["checks"]["readiness"]["httpGet"].pop("path"))),
        ("SpinApp: quantity that is not one", m("SpinApp", lambda d: d["spec"]["resources"]["limits"].__setitem__("memory", ["512Mi"]))),
        ("SpinApp: variable not in spin.toml", m("SpinApp", lambda d: d["spec"]["variables"].append({"name": "no_such_variable", "value": "x"}))),
        ("SpinApp: required variable unbound", m("SpinApp", lambda d: d["spec"].__setitem__(
            "variables", [v for v in d["spec"]["variables"] if v["name"] != "jwt_secret"]))),
        ("SpinApp: component without HTTP trigger", m("SpinApp", lambda d: d["spec"]["components"].append("nope"))),
        ("SpinAppExecutor: no createDeployment", m("SpinAppExecutor", lambda d: d["spec"].pop("createDeployment"))),
        ("SpinAppExecutor: unknown deploymentConfig field",
         m("SpinAppExecutor", lambda d: d["spec"]["deploymentConfig"].__setitem__("runtimeClass", "x"))),
        ("Job: restartPolicy that is not a string",
         m("Job", lambda d: d["spec"]["template"]["spec"].__setitem__("restartPolicy", 3))),
        ("Job: unknown field in container", m("Job", lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("cmd", ["x"]))),
        ("Deployment: selector missing", m("Deployment", lambda d: d["spec"].pop("selector"))),
        ("Deployment: env secret key not in the example Secret",
         m("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"].__setitem__("key", "nope"))),
        ("Secret: a real-looking value", m("Secret", lambda d: d["stringData"].__setitem__("jwt_secret", "hunter2"), "xmp-variables")),
        ("Secret: runtime config with the key-value store on SQLite", m("Secret", lambda d: d["stringData"].__setitem__(
            "runtime-config.toml", '# CHANGE_ME\n[key_value_store.default]\ntype = "spin"\n'), "xmp-runtime-config")),
        ("HorizontalPodAutoscaler: maxReplicas as a string", m("HorizontalPodAutoscaler", lambda d: d["spec"].__setitem__("maxReplicas", "10"))),
        ("RuntimeClass: no handler", m("RuntimeClass", lambda d: d.pop("handler"))),
    ]


def main():
    failures = []
    sets = manifests()
    count = sum(len(docs) for _, docs in sets)
    print(f"deploy check: {count} Kubernetes objects against Kubernetes {K8S_VERSION} and SpinKube v1alpha1 schemas")
    base = check_all(sets)
    failures += base
    failures += self_hosted_errors()
    failures += alert_errors(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml"))

    caught = 0
    for description, mutate in broken_copies():
        broken = copy.deepcopy(sets)
        mutate(broken)
        new = [e for e in check_all(broken) if e not in base]
        if new:
            caught += 1
            if os.environ.get("VERBOSE"):
                print(f"  refused, {description}: {new[0]}")
        else:
            failures.append(f"self-check: a broken copy passed validation: {description}")
    print(f"deploy check self-test: {caught} of {len(broken_copies())} broken copies refused")
    failures += alert_self_check()

    if failures:
        print("deploy check FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("deploy check: ok")


if __name__ == "__main__":
    main()
