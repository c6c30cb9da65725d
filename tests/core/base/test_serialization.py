"""Serializers and the SerializationRegistry: JSON for dataclasses and pydantic models,
protobuf for protobuf messages, and never pickle."""

from __future__ import annotations

import ast
import dataclasses
import json
import pathlib
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

import pytest
from google.protobuf import any_pb2, struct_pb2, wrappers_pb2
from pydantic import BaseModel

import actorgen_core
from actorgen_core import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    MessageSerializer,
    UnknownPayload,
    try_get_known_serializers_for_type,
)
from actorgen_core.base._serialization import (
    DataclassJsonMessageSerializer,
    ProtobufMessageSerializer,
    PydanticJsonMessageSerializer,
    SerializationRegistry,
    has_nested_base_model,
)
from actorgen_core.base._type_helpers import AnyType

# This module uses `from __future__ import annotations` on purpose: every dataclass below
# has string annotations, which autogen's serializer silently failed to validate.


@dataclass
class Simple:
    message: str


@dataclass
class Inner:
    x: int
    label: str = ""


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Model(BaseModel):
    name: str
    values: list[int] = []


@dataclass
class Outer:
    inner: Inner
    maybe: Optional[Inner] = None  # noqa: UP045 - the old spelling must work too
    maybe_new: Inner | None = None
    items: list[Inner] = field(default_factory=list)
    by_name: dict[str, Inner] = field(default_factory=dict)
    either: int | str = 0
    color: Color = Color.RED
    model: Model | None = None


class PydanticInner(BaseModel):
    x: int


class PydanticOuter(BaseModel):
    inner: PydanticInner
    maybe: PydanticInner | None = None
    items: list[PydanticInner] = []


# ---------------------------------------------------------------------------- pydantic


def test_pydantic_serializer_round_trip() -> None:
    serializer = PydanticJsonMessageSerializer(Model)
    assert serializer.type_name == "Model"
    assert serializer.data_content_type == JSON_DATA_CONTENT_TYPE
    payload = serializer.serialize(Model(name="a", values=[1, 2]))
    assert isinstance(payload, bytes)
    assert json.loads(payload) == {"name": "a", "values": [1, 2]}
    assert serializer.deserialize(payload) == Model(name="a", values=[1, 2])


def test_pydantic_nested_round_trip() -> None:
    serializer = PydanticJsonMessageSerializer(PydanticOuter)
    message = PydanticOuter(inner=PydanticInner(x=1), maybe=None, items=[PydanticInner(x=2)])
    assert serializer.deserialize(serializer.serialize(message)) == message


def test_pydantic_serializer_refuses_non_models() -> None:
    with pytest.raises(ValueError, match="not a pydantic model"):
        PydanticJsonMessageSerializer(Simple)


# ---------------------------------------------------------------------------- dataclasses


def test_dataclass_serializer_round_trip() -> None:
    serializer = DataclassJsonMessageSerializer(Simple)
    assert serializer.type_name == "Simple"
    assert serializer.data_content_type == JSON_DATA_CONTENT_TYPE
    payload = serializer.serialize(Simple("hello"))
    assert json.loads(payload) == {"message": "hello"}
    assert serializer.deserialize(payload) == Simple("hello")


def test_json_bytes_are_autogen_cores() -> None:
    # Cross-language peers and stored payloads compare bytes (issue 7, item 6): dataclasses
    # as json.dumps(asdict(...)) writes them, pydantic models compact as model_dump_json.
    assert DataclassJsonMessageSerializer(Simple).serialize(Simple("hello")) == b'{"message": "hello"}'
    assert DataclassJsonMessageSerializer(Simple).serialize(Simple("h\u00e9")) == b'{"message": "h\\u00e9"}'
    inner = Inner(x=1, label="l")
    assert DataclassJsonMessageSerializer(Inner).serialize(inner) == json.dumps(dataclasses.asdict(inner)).encode()
    assert PydanticJsonMessageSerializer(Model).serialize(Model(name="a", values=[1])) == b'{"name":"a","values":[1]}'


def test_dataclass_serializer_reads_autogen_formatted_json() -> None:
    # autogen writes json.dumps(asdict(msg)), with spaces after separators.
    assert DataclassJsonMessageSerializer(Simple).deserialize(b'{"message": "hello"}') == Simple("hello")


@pytest.mark.parametrize(
    "message",
    [
        Outer(Inner(1)),
        Outer(Inner(1, "a"), maybe=Inner(2), maybe_new=Inner(3), items=[Inner(4), Inner(5)]),
        Outer(Inner(1), by_name={"k": Inner(6)}, either="text", color=Color.BLUE),
        Outer(Inner(1), either=7, model=Model(name="m", values=[1])),
    ],
)
def test_nested_dataclasses_optional_and_union_fields_round_trip(message: Outer) -> None:
    """A deliberate improvement over autogen, which rejects (or silently breaks) these."""
    serializer = DataclassJsonMessageSerializer(Outer)
    result = serializer.deserialize(serializer.serialize(message))
    assert result == message
    assert type(result.inner) is Inner
    assert all(type(i) is Inner for i in result.items)
    assert type(result.either) is type(message.either)


def test_dataclass_with_real_type_annotations_round_trips() -> None:
    # make_dataclass gives real (non-string) annotations, the other way a module can be written.
    point = dataclasses.make_dataclass("Point", [("x", int), ("inner", Inner), ("tag", Optional[str])])  # noqa: UP045
    serializer = DataclassJsonMessageSerializer(point)
    message = point(1, Inner(2), None)
    assert serializer.type_name == "Point"
    assert serializer.deserialize(serializer.serialize(message)) == message


def test_dataclass_deserialize_validates_field_types() -> None:
    with pytest.raises(ValueError):
        DataclassJsonMessageSerializer(Inner).deserialize(b'{"x": "not an int"}')
    with pytest.raises(ValueError):
        DataclassJsonMessageSerializer(Inner).deserialize(b'{"label": "missing x"}')


def test_dataclass_serializer_refuses_non_dataclasses() -> None:
    with pytest.raises(ValueError, match="not a dataclass"):
        DataclassJsonMessageSerializer(Model)
    with pytest.raises(ValueError, match="not a dataclass"):
        DataclassJsonMessageSerializer(str)


def test_dataclass_with_an_unserializable_field_fails_at_construction_naming_the_class() -> None:
    bad = dataclasses.make_dataclass("HoldsALock", [("lock", type(threading.Lock()))])
    with pytest.raises(ValueError, match="HoldsALock"):
        DataclassJsonMessageSerializer(bad)


# ---------------------------------------------------------------------------- protobuf


def test_protobuf_serializer_round_trip_through_any() -> None:
    serializer = ProtobufMessageSerializer(wrappers_pb2.StringValue)
    assert serializer.type_name == "google.protobuf.StringValue"
    assert serializer.data_content_type == PROTOBUF_DATA_CONTENT_TYPE
    payload = serializer.serialize(wrappers_pb2.StringValue(value="hello"))
    packed = any_pb2.Any()
    packed.ParseFromString(payload)
    assert packed.type_url == "type.googleapis.com/google.protobuf.StringValue"
    assert serializer.deserialize(payload) == wrappers_pb2.StringValue(value="hello")


def test_protobuf_struct_round_trip() -> None:
    message = struct_pb2.Struct()
    message.update({"a": 1, "nested": {"b": [True, "x"]}})
    serializer = ProtobufMessageSerializer(struct_pb2.Struct)
    assert serializer.deserialize(serializer.serialize(message)) == message


def test_protobuf_deserialize_refuses_another_packed_type() -> None:
    payload = ProtobufMessageSerializer(struct_pb2.Struct).serialize(struct_pb2.Struct())
    with pytest.raises(ValueError, match=r"google\.protobuf\.StringValue"):
        ProtobufMessageSerializer(wrappers_pb2.StringValue).deserialize(payload)


def test_protobuf_serializer_refuses_non_messages() -> None:
    with pytest.raises(ValueError, match="not a protobuf message"):
        ProtobufMessageSerializer(Simple)


# ---------------------------------------------------------------------------- invalid payloads


BAD_PAYLOADS = [b"{not json", b"", b"[]", b"\xff\xfe\xfd", b'{"message": 1, "extra": [}']


@pytest.mark.parametrize("payload", BAD_PAYLOADS)
@pytest.mark.parametrize(
    "serializer",
    [
        DataclassJsonMessageSerializer(Simple),
        PydanticJsonMessageSerializer(Model),
        ProtobufMessageSerializer(wrappers_pb2.StringValue),
    ],
    ids=["dataclass", "pydantic", "protobuf"],
)
def test_invalid_payload_raises_value_error_naming_the_type(serializer: Any, payload: bytes) -> None:
    with pytest.raises(ValueError) as info:
        serializer.deserialize(payload)
    assert serializer.type_name.rsplit(".", 1)[-1] in str(info.value)


def test_invalid_payload_leaves_the_registry_usable() -> None:
    registry = SerializationRegistry()
    registry.add_serializer(DataclassJsonMessageSerializer(Simple))
    with pytest.raises(ValueError):
        registry.deserialize(b"{oops", type_name="Simple", data_content_type=JSON_DATA_CONTENT_TYPE)
    payload = registry.serialize(Simple("ok"), type_name="Simple", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert registry.deserialize(payload, type_name="Simple", data_content_type=JSON_DATA_CONTENT_TYPE) == Simple("ok")


# ---------------------------------------------------------------------------- try_get_known_serializers_for_type


@pytest.mark.parametrize("cls", [str, int, bytes, dict, list, type(None), object, AnyType, Color])
def test_no_known_serializers_for_plain_types(cls: type) -> None:
    assert try_get_known_serializers_for_type(cls) == []


def test_no_known_serializers_for_non_types() -> None:
    assert try_get_known_serializers_for_type(Simple("instance")) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cls", "serializer_type", "content_type"),
    [
        (Simple, DataclassJsonMessageSerializer, JSON_DATA_CONTENT_TYPE),
        (Outer, DataclassJsonMessageSerializer, JSON_DATA_CONTENT_TYPE),
        (Model, PydanticJsonMessageSerializer, JSON_DATA_CONTENT_TYPE),
        (wrappers_pb2.StringValue, ProtobufMessageSerializer, PROTOBUF_DATA_CONTENT_TYPE),
    ],
)
def test_known_serializers(cls: type, serializer_type: type, content_type: str) -> None:
    serializers = try_get_known_serializers_for_type(cls)
    assert len(serializers) == 1
    assert isinstance(serializers[0], serializer_type)
    assert serializers[0].data_content_type == content_type


def test_pydantic_model_with_nested_models_gets_the_pydantic_serializer() -> None:
    assert isinstance(try_get_known_serializers_for_type(PydanticOuter)[0], PydanticJsonMessageSerializer)


# ---------------------------------------------------------------------------- SerializationRegistry


def test_registry_unknown_type_deserializes_to_unknown_payload() -> None:
    registry = SerializationRegistry()
    result = registry.deserialize(b'{"a": 1}', type_name="Mystery", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert result == UnknownPayload("Mystery", JSON_DATA_CONTENT_TYPE, b'{"a": 1}')


def test_registry_unknown_type_serialize_names_the_type() -> None:
    registry = SerializationRegistry()
    registry.add_serializer(DataclassJsonMessageSerializer(Simple))
    with pytest.raises(ValueError, match="Mystery") as info:
        registry.serialize(Simple("x"), type_name="Mystery", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert JSON_DATA_CONTENT_TYPE in str(info.value)
    # Known name, unknown content type: still an error naming both.
    with pytest.raises(ValueError, match="Simple"):
        registry.serialize(Simple("x"), type_name="Simple", data_content_type=PROTOBUF_DATA_CONTENT_TYPE)


def test_registry_add_single_sequence_and_empty() -> None:
    registry = SerializationRegistry()
    registry.add_serializer([])  # what try_get_known_serializers_for_type(str) gives: a no-op
    assert not registry.is_registered("str", JSON_DATA_CONTENT_TYPE)
    registry.add_serializer(DataclassJsonMessageSerializer(Simple))
    registry.add_serializer([PydanticJsonMessageSerializer(Model), [ProtobufMessageSerializer(struct_pb2.Struct)]])  # type: ignore[list-item]
    assert registry.is_registered("Simple", JSON_DATA_CONTENT_TYPE)
    assert registry.is_registered("Model", JSON_DATA_CONTENT_TYPE)
    assert registry.is_registered("google.protobuf.Struct", PROTOBUF_DATA_CONTENT_TYPE)
    assert not registry.is_registered("Simple", PROTOBUF_DATA_CONTENT_TYPE)


def test_registry_round_trips_each_kind() -> None:
    registry = SerializationRegistry()
    for cls in (Simple, Outer, Model, wrappers_pb2.StringValue):
        registry.add_serializer(try_get_known_serializers_for_type(cls))
    messages: list[Any] = [
        Simple("s"),
        Outer(Inner(1), items=[Inner(2)]),
        Model(name="m"),
        wrappers_pb2.StringValue(value="v"),
    ]
    for message in messages:
        name = registry.type_name(message)
        content_type = PROTOBUF_DATA_CONTENT_TYPE if name.startswith("google.") else JSON_DATA_CONTENT_TYPE
        payload = registry.serialize(message, type_name=name, data_content_type=content_type)
        assert registry.deserialize(payload, type_name=name, data_content_type=content_type) == message


def test_registry_later_serializer_replaces_the_earlier() -> None:
    class Upper:
        type_name = "Simple"
        data_content_type = JSON_DATA_CONTENT_TYPE

        def serialize(self, message: Simple) -> bytes:
            return message.message.upper().encode()

        def deserialize(self, payload: bytes) -> Simple:
            return Simple(payload.decode().lower())

    registry = SerializationRegistry()
    registry.add_serializer(DataclassJsonMessageSerializer(Simple))
    registry.add_serializer(Upper())
    assert registry.serialize(Simple("abc"), type_name="Simple", data_content_type=JSON_DATA_CONTENT_TYPE) == b"ABC"


def test_registry_accepts_a_custom_serializer() -> None:
    class Utf8Text(MessageSerializer[str]):
        @property
        def data_content_type(self) -> str:
            return "text/plain"

        @property
        def type_name(self) -> str:
            return "text"

        def serialize(self, message: str) -> bytes:
            return message.encode()

        def deserialize(self, payload: bytes) -> str:
            return payload.decode()

    registry = SerializationRegistry()
    registry.add_serializer(Utf8Text())
    payload = registry.serialize("héllo", type_name="text", data_content_type="text/plain")
    assert registry.deserialize(payload, type_name="text", data_content_type="text/plain") == "héllo"


def test_registry_type_names() -> None:
    registry = SerializationRegistry()
    assert registry.type_name(Simple("x")) == "Simple"
    assert registry.type_name(Simple) == "Simple"
    assert registry.type_name(Model(name="m")) == "Model"
    assert registry.type_name(wrappers_pb2.StringValue) == "google.protobuf.StringValue"
    assert registry.type_name(wrappers_pb2.StringValue(value="x")) == "google.protobuf.StringValue"
    assert registry.type_name(None) == "NoneType"


def test_unknown_payload_is_a_plain_record() -> None:
    payload = UnknownPayload(type_name="T", data_content_type="c", payload=b"p")
    assert dataclasses.is_dataclass(payload)
    assert (payload.type_name, payload.data_content_type, payload.payload) == ("T", "c", b"p")


def test_has_nested_base_model() -> None:
    assert has_nested_base_model(Outer) is True  # string annotations are resolved: `model: Model | None`
    assert has_nested_base_model(Inner) is False

    real = dataclasses.make_dataclass("HasModel", [("m", Model)])
    in_list = dataclasses.make_dataclass("HasModels", [("ms", list[Model])])
    plain = dataclasses.make_dataclass("Plain", [("x", int)])
    assert has_nested_base_model(real)
    assert has_nested_base_model(in_list)
    assert not has_nested_base_model(plain)
    assert not has_nested_base_model(Model)


def test_has_nested_base_model_looks_at_every_depth() -> None:
    # autogen_core finds a model in a list of lists; so must we (issue 7, item 2).
    list_of_lists = dataclasses.make_dataclass("Grid", [("rows", list[list[Model]])])
    in_dict_of_optionals = dataclasses.make_dataclass("Index", [("by_key", dict[str, Model | None])])
    in_tuple = dataclasses.make_dataclass("Pair", [("pair", tuple[int, list[Model]])])
    via_dataclass = dataclasses.make_dataclass("Wrapper", [("grid", list[list_of_lists])])  # type: ignore[valid-type]
    no_model_deep = dataclasses.make_dataclass("Deep", [("rows", list[list[dict[str, Inner]]])])
    assert has_nested_base_model(list_of_lists)
    assert has_nested_base_model(in_dict_of_optionals)
    assert has_nested_base_model(in_tuple)
    assert has_nested_base_model(via_dataclass)
    assert not has_nested_base_model(no_model_deep)


@dataclass
class TreeNode:
    label: str
    children: list[TreeNode] = field(default_factory=list)


def test_has_nested_base_model_terminates_on_self_reference() -> None:
    assert has_nested_base_model(TreeNode) is False


# ---------------------------------------------------------------------------- no pickle, ever

FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "marshal", "shelve", "jsonpickle"}
FORBIDDEN_CALLS = {"eval", "exec"}

# Reviewed exceptions: (path relative to actorgen_core, enclosing function, call). Adding
# one needs a reason and a test that the code path is closed by default.
ALLOWED_CALLS = {
    # autogen-compatible FunctionTool configs carry source code; running it is refused unless
    # the caller opts in (test_function_tool_source_execution_is_refused_by_default).
    ("tools/_function_tool.py", "_from_config", "exec"),
}


def _core_root() -> pathlib.Path:
    return pathlib.Path(actorgen_core.__file__).parent


def _core_sources() -> list[pathlib.Path]:
    return sorted(_core_root().rglob("*.py"))


def _violations(path: pathlib.Path, relative: str = "") -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in FORBIDDEN_CALLS and (relative, function, name) not in ALLOWED_CALLS:
                found.append(f"{path}:{node.lineno}: calls {name}() in {function}")
            if name in {"import_module", "__import__"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and str(first.value).split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{path}:{node.lineno}: imports {first.value} dynamically")
        for name in names:
            if name.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{path}:{node.lineno}: imports {name}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_core_sources_are_found() -> None:
    sources = {p.name for p in _core_sources()}
    assert {"_serialization.py", "_routed_agent.py", "_single_threaded_agent_runtime.py"} <= sources


def test_no_pickle_marshal_shelve_eval_or_exec_in_actorgen_core() -> None:
    root = _core_root()
    violations = [v for path in _core_sources() for v in _violations(path, path.relative_to(root).as_posix())]
    assert violations == []


def test_allowed_calls_still_exist() -> None:
    """An exception that is no longer needed must be removed from the allow-list."""
    root = _core_root()
    for relative, function, call in ALLOWED_CALLS:
        path = root / relative
        assert path.exists(), relative
        assert any(f"calls {call}() in {function}" in v for v in _violations(path)), (relative, function, call)


def test_function_tool_source_execution_is_refused_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from actorgen_core.tools import FunctionTool

    monkeypatch.delenv("ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE", raising=False)

    def add(a: int, b: int) -> int:
        return a + b

    model = FunctionTool(add, description="adds").dump_component()
    with pytest.raises(ValueError, match="Refusing"):
        FunctionTool.load_component(model)


def test_the_pickle_scanner_catches_what_it_should(tmp_path: pathlib.Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pickle\n"
        "from marshal import loads\n"
        "import shelve as s\n"
        "import importlib\n"
        "importlib.import_module('dill')\n"
        "eval('1')\n"
        "def f():\n"
        "    builtins.exec('x = 1')\n"
        "import json\n"
    )
    assert len(_violations(sample)) == 6
