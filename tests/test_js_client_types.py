"""clients/js/index.d.ts is what scripts/gen_client_types.py makes of docs/frames.schema.json
now: a protocol change that did not regenerate the declarations fails here."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("gen_client_types", ROOT / "scripts" / "gen_client_types.py")
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def schema():
    return json.loads((ROOT / "docs" / "frames.schema.json").read_text())


def test_the_committed_declarations_are_generated_from_the_current_schema():
    assert (ROOT / "clients" / "js" / "index.d.ts").read_text() == gen.render(schema()), (
        "clients/js/index.d.ts is out of date: run python scripts/gen_client_types.py")


def test_every_request_and_event_type_has_its_declaration():
    text = gen.render(schema())
    defs = schema()["$defs"]
    for ref in defs:
        if ref.startswith("request."):
            assert f'  "{ref[8:]}": Omit<{gen.type_name(ref)}, "type" | "id">;' in text, ref
        elif ref.startswith("event.") and ref not in gen.NOT_EVENTS:
            assert f'  "{ref[6:]}": {gen.type_name(ref)};' in text, ref


def test_a_schema_change_changes_the_declarations():
    changed = schema()
    changed["$defs"]["request.chat.create"]["properties"]["colour"] = {"type": "string"}
    text = gen.render(changed)
    assert text != gen.render(schema())
    assert "  colour?: string;" in text


def test_the_package_points_at_the_declarations_and_the_source():
    package = json.loads((ROOT / "clients" / "js" / "package.json").read_text())
    assert package["name"] == "chatwire-client" and package["type"] == "module"
    assert package["exports"]["."] == {"types": "./index.d.ts", "default": "./src/index.js"}
    assert not package.get("dependencies")
    for path in package["files"]:
        assert (ROOT / "clients" / "js" / path).exists(), path
