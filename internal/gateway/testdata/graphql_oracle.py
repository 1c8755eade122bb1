"""Oracle for the gateway's GraphQL check: MLflow's own schema and graphql-core.

  graphql_oracle.py schema   prints the schema's object and input types as JSON
  graphql_oracle.py cases F  reads JSON lines {"query", "variables"} from F and
                             prints one JSON line per case: whether graphql-core
                             (with MLflow's safety scan) would execute it, and the
                             resource ids each root field's resolver would hand to
                             MLflow's handler.
"""

import json
import sys

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationDefinitionNode,
    FragmentDefinitionNode,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values, get_variable_values

from mlflow.server.graphql.graphql_no_batching import check_query_safety
from mlflow.server.graphql.graphql_schema_extensions import schema

S = schema.graphql_schema


def is_list(t):
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def dump_schema():
    objects, inputs = {}, {}
    for name, t in S.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(t, GraphQLObjectType):
            objects[name] = {}
            for f, fd in t.fields.items():
                nt = get_named_type(fd.type)
                objects[name][f] = {
                    "type": nt.name if isinstance(nt, GraphQLObjectType) else "",
                    "args": {a: get_named_type(v.type).name for a, v in fd.args.items()},
                }
        elif isinstance(t, GraphQLInputObjectType):
            inputs[name] = {
                f: {"type": get_named_type(fd.type).name, "list": is_list(fd.type)}
                for f, fd in t.fields.items()
            }
    print(json.dumps({"objects": objects, "inputs": inputs}, sort_keys=True))


ID_FIELDS = {
    "mlflowGetExperiment": ("experiment_id",),
    "mlflowGetRun": ("run_id", "run_uuid"),
    "mlflowListArtifacts": ("run_id", "run_uuid"),
    "mlflowGetMetricHistoryBulkInterval": ("run_ids",),
    "mlflowSearchRuns": ("experiment_ids",),
    "mlflowSearchDatasets": ("experiment_ids",),
}


def attr(obj, name):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def ids_of(field, inp):
    names = ID_FIELDS.get(field)
    if not names or inp is None:
        return []
    if names[0] in ("run_ids", "experiment_ids"):
        return [str(x) for x in (attr(inp, names[0]) or [])]
    # get_run_impl: run_id or run_uuid (proto strings default to "").
    for n in names:
        v = attr(inp, n)
        if v:
            return [v]
    return [""]


def one_case(case):
    try:
        doc = parse(case["query"])
    except Exception as e:
        return {"ok": False, "why": "parse: " + str(e)[:100]}
    if validate(S, doc):
        return {"ok": False, "why": "validate"}
    if check_query_safety(doc):
        return {"ok": False, "why": "safety"}
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    ids = []
    for op in doc.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        vals = get_variable_values(S, op.variable_definitions or [], case.get("variables") or {})
        if isinstance(vals, list):
            return {"ok": False, "why": "variables"}
        root = S.query_type if op.operation.value == "query" else S.mutation_type
        fields = collect_fields(S, frags, vals, root, op.selection_set)
        for _, nodes in fields.items():
            node = nodes[0]
            fd = root.fields[node.name.value]
            args = get_argument_values(fd, node, vals)
            ids.extend(ids_of(node.name.value, args.get("input")))
    return {"ok": True, "ids": sorted(ids)}


def main():
    if sys.argv[1] == "schema":
        dump_schema()
        return
    for line in open(sys.argv[2], encoding="utf-8"):
        if not line.strip():
            continue
        try:
            out = one_case(json.loads(line))
        except Exception as e:  # the oracle itself must not stop the run
            out = {"ok": False, "why": "oracle: " + type(e).__name__}
        print("CASE " + json.dumps(out))


main()
