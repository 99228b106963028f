"""The restricted evaluator for everything a diagram computes.

Gateway conditions, timer expressions, service-task parameters, message payloads
and script tasks are Python text written by whoever edits a diagram. They run here:
compiled by RestrictedPython (no imports, no names or attributes starting with an
underscore, so no ``__class__`` or ``__import__``), with a short list of built-ins and a
time limit enforced by a trace function, so ``while True: pass`` ends with an error.

The time limit only stops Python code between operations; one operation done inside C
(``((9**512)**512)**512``, ``1 << (1 << 34)``, ``'x'.ljust(10**10)``) would run or allocate
for as long as it likes. So every operation that can build a big number or a long
sequence is bounded *before* it runs: ``**``, ``*``, ``<<``, ``+``, ``%`` formatting, the
padding, replacing and joining methods of strings, and f-string format specs. A script
may leave at most ``MAX_SCRIPT_DATA`` characters of data behind, which the workflow keeps.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.Limits import limited_range
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

_MAX_INT_BITS = 16_384       # about 4,900 decimal digits: more than any date, count or amount needs
_MAX_SEQUENCE = 1_000_000    # characters of a string, items of a list
MAX_SCRIPT_DATA = 256 * 1024  # characters of JSON a script may leave in the workflow's data
_WIDE_SPEC = re.compile(r"\d{7,}|\{[^{}]*\{|%[-#0 +]*\*")  # a width of a million or more, a nested or * width


class ExpressionError(Exception):
    """An expression or script was refused or failed; the message says why, in Chinese."""


class ExpressionTimeout(ExpressionError):
    pass


_GUARDED_OPS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus guarded arithmetic and constant, narrow format specs."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) for p in parts):
                self.error(node, "格式说明必须是常量")
            elif _WIDE_SPEC.search("".join(str(p.value) for p in parts)):
                self.error(node, "格式说明的宽度过大")
        return self.node_contents_visit(node)


def _too_big(what: str) -> ExpressionError:
    return ExpressionError(f"{what}过大，表达式中不允许")


def _bits(value) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _pow(base, exponent, modulo=None):
    if modulo is not None:
        if _bits(modulo) > _MAX_INT_BITS:
            raise _too_big("模数")
        return pow(base, exponent, modulo)
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1 \
            and (base.bit_length() - 1) * exponent > _MAX_INT_BITS:
        raise _too_big(f"幂运算的结果（约 {(base.bit_length() - 1) * exponent} 位）")
    return pow(base, exponent)


def _length(value) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _mul(left, right):
    for seq, n in ((left, right), (right, left)):
        if _length(seq) is not None and isinstance(n, int) and len(seq) * n > _MAX_SEQUENCE:
            raise _too_big("重复生成的序列")
    if _bits(left) + _bits(right) > _MAX_INT_BITS:
        raise _too_big("乘积")
    return left * right


def _lshift(left, right):
    if isinstance(right, int) and _bits(left) + right > _MAX_INT_BITS:
        raise _too_big("移位的结果")
    return left << right


def _add(left, right):
    if (_length(left) or 0) + (_length(right) or 0) > _MAX_SEQUENCE:
        raise _too_big("拼接的结果")
    return left + right


def _mod(left, right):
    if isinstance(left, str) and _WIDE_SPEC.search(left):
        raise _too_big("格式化的宽度")
    return left % right


def _sized(text: str, method: str, args: tuple, kwargs: dict) -> int:
    """How long ``text.method(*args)`` would be, worked out before it runs."""
    if method in ("ljust", "rjust", "center", "zfill"):
        return max(len(text), int(args[0]) if args else 0)
    if method == "expandtabs":
        return len(text) + text.count("\t") * int(args[0] if args else kwargs.get("tabsize", 8))
    if method == "replace":
        old, new = args[0], args[1]
        count = text.count(old) if old else len(text) + 1
        if len(args) > 2 and args[2] >= 0:
            count = min(count, args[2])
        return len(text) + count * max(0, len(new) - len(old))
    return 0


# (str.format is refused altogether by RestrictedPython.)
_SIZED_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace"})


def _getattr(obj, name, *default):
    value = safer_getattr(obj, name, *default)
    if isinstance(obj, str) and name in _SIZED_METHODS:
        def bounded(*args, **kwargs):
            if _sized(obj, name, args, kwargs) > _MAX_SEQUENCE:
                raise _too_big(f"字符串方法 {name} 的结果")
            return value(*args, **kwargs)
        return bounded
    if isinstance(obj, str) and name == "join":
        def join(items):
            items = list(items)
            if sum(len(i) for i in items if isinstance(i, str)) + len(obj) * len(items) > _MAX_SEQUENCE:
                raise _too_big("连接的结果")
            return value(items)
        return join
    return value


def _inplacevar(op: str, x, y):
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": _add, "-=": lambda a, b: a - b, "*=": _mul, "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b, "%=": _mod, "**=": _pow, "<<=": _lshift,
        "|=": lambda a, b: a | b, "&=": lambda a, b: a & b,
    }
    if op not in ops:
        raise ExpressionError(f"不支持的运算 {op}")
    return ops[op](x, y)


_UNSAFE = ("__build_class__", "pow", "id", "hash", "setattr", "delattr")
_BUILTINS = {
    **{k: v for k, v in safe_builtins.items() if k not in _UNSAFE},
    "pow": _pow, "range": limited_range,
    "list": list, "dict": dict, "set": set, "tuple": tuple, "sorted": sorted, "reversed": reversed,
    "min": min, "max": max, "sum": sum, "any": any, "all": all, "enumerate": enumerate, "zip": zip,
    "map": map, "filter": filter,
}
_GUARDS = {
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_pow_": _pow,
    "_mul_": _mul,
    "_lshift_": _lshift,
    "_add_": _add,
    "_mod_": _mod,
}


@lru_cache(maxsize=2048)
def compile_expression(source: str, mode: str = "eval"):
    """Compile ``source`` under the policy; raise :class:`ExpressionError` if it is refused."""
    compile_fn = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_fn(source, filename="<diagram>", policy=_Policy)
    if result.errors:
        reasons = "；".join(dict.fromkeys(_explain(e) for e in result.errors))
        raise ExpressionError(f"表达式 {source.strip()[:80]!r} 不被允许：{reasons}")
    return result.code


def _explain(error: str) -> str:
    if "invalid variable name because it starts with" in error or "invalid attribute name" in error:
        return "不能使用以下划线开头的名称或属性（如 __class__、__import__）"
    if "import" in error.lower():
        return "不能导入模块"
    return error


class Evaluator:
    """Runs compiled diagram code with the restricted globals and a time limit."""

    def __init__(self, functions: Mapping[str, Callable] | None = None, timeout_s: float = 1.0):
        self.timeout_s = timeout_s
        self.globals = {"__builtins__": _BUILTINS, **_GUARDS, **(functions or {})}

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        code = compile_expression(expression, "eval")
        namespace = {**self.globals, **data}
        return self._run(lambda: eval(code, namespace), expression)

    def execute(self, script: str, data: dict[str, Any]) -> None:
        """Run a script; names it binds (other than functions) become task data."""
        code = compile_expression(script, "exec")
        namespace = {**self.globals, **data}
        self._run(lambda: exec(code, namespace), script)
        bound = {key: value for key, value in namespace.items()
                 if key not in self.globals and not key.startswith("_") and not callable(value)
                 and (key not in data or data[key] is not value)}
        size = len(json.dumps(bound, default=str, ensure_ascii=False))
        if size > MAX_SCRIPT_DATA:
            raise ExpressionError(f"脚本留下的数据有 {size} 个字符，超过 {MAX_SCRIPT_DATA} 的上限："
                                  f"{script.strip()[:80]!r}")
        for key in list(data):
            if key not in namespace:
                del data[key]
        data.update(bound)

    def _run(self, call: Callable[[], Any], source: str) -> Any:
        deadline = time.monotonic() + self.timeout_s

        def tracer(frame, event, arg):
            if time.monotonic() > deadline:
                raise ExpressionTimeout(f"表达式运行超过 {self.timeout_s:g} 秒，已中止：{source.strip()[:80]!r}")
            return tracer

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return call()
        except ExpressionError:
            raise
        except Exception as err:
            raise ExpressionError(f"表达式 {source.strip()[:80]!r} 出错：{type(err).__name__}: {err}") from err
        finally:
            sys.settrace(previous)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Plugs the evaluator into SpiffWorkflow's script engine."""

    def __init__(self, evaluator: Evaluator):
        super().__init__({})
        self.evaluator = evaluator

    def evaluate(self, expression, context, external_context=None):
        return self.evaluator.evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script, context, external_context=None):
        self.evaluator.execute(script, context)
        return True
