"""The plugin manager and the registries it fills.

Plugins come from the ``giqa_harness`` entry-point group (built-ins included) and from
`register_plugin` (tests, notebooks). A plugin that fails to import, or whose hook raises, is recorded
in `Registry.failures` and skipped: it never takes the command line down.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Generic, Iterator, TypeVar

import pluggy

from . import hookspecs
from .errors import PluginError, UnknownNameError

ENTRY_POINT_GROUP = "giqa_harness"
T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    name: str
    value: T
    plugin: str


class NamedRegistry(Generic[T]):
    """Name -> registered thing, remembering which plugin registered it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}
        self.overridden: list[str] = []
        # "plugin: error" of each plugin that failed to load, named when a lookup fails (set by `registry`)
        self.failed_plugins: Callable[[], list[str]] = list

    def add(self, name: str, value: T, plugin: str, aliases: tuple[str, ...] = ()) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name: {value!r}")
        if name in self._entries:
            # Later plugins win, so a third-party plugin can replace a built-in on purpose; say so.
            previous = self._entries[name].plugin
            self.overridden.append(f"{self.kind} {name!r} from {previous!r} replaced by {plugin!r}")
        self._entries[name] = Entry(name, value, plugin)
        for alias in aliases:
            self._aliases[alias] = name

    def get(self, name: str) -> T:
        key = self._aliases.get(name, name)
        if key not in self._entries:
            raise UnknownNameError(self.kind, name, self.names(), self.failed_plugins())
        return self._entries[key].value

    def entry(self, name: str) -> Entry[T]:
        self.get(name)
        return self._entries[self._aliases.get(name, name)]

    def __contains__(self, name: str) -> bool:
        return self._aliases.get(name, name) in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        for name in self.names():
            yield self._entries[name]


@dataclass
class PluginInfo:
    name: str
    version: str | None
    module: str
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Registry:
    """Everything the loaded plugins registered."""

    models: NamedRegistry[Any]
    formats: NamedRegistry[Any]
    metrics: NamedRegistry[Any]
    judges: NamedRegistry[Callable[..., Any]]
    detectors: NamedRegistry[Any]
    task_dirs: list[tuple[Path, str]]
    plugins: dict[str, PluginInfo]

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if p.error]

    def failure_lines(self) -> list[str]:
        """``"plugin: error"`` for each plugin that failed to load."""
        return [f"{p.name}: {p.error}" for p in self.failures]


_lock = threading.RLock()
_manager: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_registry: Registry | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with entry-point plugins loaded (each failure isolated)."""
    global _manager
    with _lock:
        if _manager is None:
            pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
            pm.add_hookspecs(hookspecs)
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                version = ep.dist.version if ep.dist is not None else None
                dist_name = ep.dist.metadata["Name"] if ep.dist is not None else None
                label = ep.name if dist_name in (None, "giqa-harness") else f"{dist_name}:{ep.name}"
                info = PluginInfo(name=label, version=version, module=ep.value)
                _infos[label] = info
                try:
                    pm.register(ep.load(), name=label)
                except Exception as exc:  # a broken plugin is reported, never fatal
                    info.error = f"{type(exc).__name__}: {exc}"
            _manager = pm
        return _manager


def register_plugin(plugin: object, name: str | None = None, version: str | None = None) -> str:
    """Register a plugin object or module at run time (for tests and notebooks); returns its name."""
    pm = plugin_manager()
    global _registry
    with _lock:
        label = pm.register(plugin, name=name)
        if label is None:
            raise PluginError(f"plugin {name or plugin!r} is already registered")
        _infos[label] = PluginInfo(name=label, version=version, module=getattr(plugin, "__name__", repr(plugin)))
        _registry = None
        return label


def unregister_plugin(name: str) -> None:
    global _registry
    pm = plugin_manager()
    with _lock:
        pm.unregister(name=name)
        _infos.pop(name, None)
        _registry = None


def registry() -> Registry:
    """Build (once) and return the registry of everything the plugins registered."""
    global _registry
    with _lock:
        if _registry is not None:
            return _registry
        pm = plugin_manager()
        for info in _infos.values():
            info.registered = {}
        reg = Registry(
            models=NamedRegistry("model"),
            formats=NamedRegistry("box format"),
            metrics=NamedRegistry("metric"),
            judges=NamedRegistry("judge backend"),
            detectors=NamedRegistry("detector"),
            task_dirs=[],
            plugins=_infos,
        )

        def collect(hook_name: str, kind: str, add: Callable[..., str]) -> None:
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                info = _infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name, None, repr(impl.plugin)))

                def register(*args: Any, _plugin: str = impl.plugin_name, **kwargs: Any) -> None:
                    label = add(_plugin, *args, **kwargs)
                    _infos[_plugin].registered.setdefault(kind, []).append(label)

                try:
                    impl.function(register=register)
                except Exception as exc:
                    info.error = f"{hook_name} raised {type(exc).__name__}: {exc}"

        def add_model(plugin: str, cls: Any, name: str | None = None, aliases: tuple[str, ...] = ()) -> str:
            name = name or getattr(cls, "name", None)
            reg.models.add(name, cls, plugin, tuple(aliases) or tuple(getattr(cls, "aliases", ())))
            return name

        def add_format(plugin: str, cls: Any) -> str:
            reg.formats.add(cls.name, cls, plugin)
            return cls.name

        def add_metric(plugin: str, metric: Any) -> str:
            reg.metrics.add(metric.name, metric, plugin)
            return metric.name

        def add_judge(plugin: str, scheme: str, factory: Callable[..., Any]) -> str:
            reg.judges.add(scheme, factory, plugin)
            return scheme

        def add_detector(plugin: str, cls: Any) -> str:
            reg.detectors.add(cls.name, cls, plugin)
            return cls.name

        def add_task_dir(plugin: str, path: str | Path) -> str:
            reg.task_dirs.append((Path(path).resolve(), plugin))
            return str(path)

        for named in (reg.models, reg.formats, reg.metrics, reg.judges, reg.detectors):
            named.failed_plugins = reg.failure_lines
        collect("register_box_formats", "formats", add_format)
        collect("register_metrics", "metrics", add_metric)
        collect("register_judges", "judges", add_judge)
        collect("register_models", "models", add_model)
        collect("register_detectors", "detectors", add_detector)
        collect("register_tasks", "task folders", add_task_dir)
        _registry = reg
        return reg
