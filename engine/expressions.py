"""The restricted evaluator for everything a diagram computes.

Gateway conditions, timer expressions, service-task parameters, message payloads
and script tasks are Python text written by whoever edits a diagram. They run here:
compiled by RestrictedPython (no imports, no names or attributes starting with an
underscore, so no ``__class__`` or ``__import__``), with a short list of built-ins,
guarded ``**`` and ``*`` so one expression cannot allocate the machine away, and a
time limit enforced by a trace function, so ``while True: pass`` ends with an error.
"""

from __future__ import annotations

import ast
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

_MAX_EXPONENT = 512
_MAX_SEQUENCE = 1_000_000


class ExpressionError(Exception):
    """An expression or script was refused or failed; the message says why, in Chinese."""


class ExpressionTimeout(ExpressionError):
    pass


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus guarded ``**`` and ``*``."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = {ast.Pow: "_pow_", ast.Mult: "_mul_"}.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


def _pow(base, exponent, modulo=None):
    if isinstance(exponent, int) and exponent > _MAX_EXPONENT and not (isinstance(base, int) and abs(base) <= 1):
        raise ExpressionError(f"幂运算的指数过大（{exponent}），表达式中不允许")
    return pow(base, exponent) if modulo is None else pow(base, exponent, modulo)


def _mul(left, right):
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_SEQUENCE:
            raise ExpressionError("重复生成的序列过长，表达式中不允许")
    return left * right


def _inplacevar(op: str, x, y):
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": _mul, "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b, "%=": lambda a, b: a % b, "**=": _pow,
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
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_pow_": _pow,
    "_mul_": _mul,
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
        for key in list(data):
            if key not in namespace:
                del data[key]
        for key, value in namespace.items():
            if key in self.globals or key.startswith("_") or callable(value):
                continue
            data[key] = value

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
