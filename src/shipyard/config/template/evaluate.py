"""Evaluation of pipelines, commands, field chains, calls and arguments (the eval half of Go's exec.go).

Value model: see gotypes.py. Two sentinels matter here: MISSING is Go's invalid reflect.Value and NO_ARG is
Go's ``missingVal`` (no piped-in final argument)."""

from __future__ import annotations

from collections.abc import Callable

from .errors import GoError, TemplateError, TemplateLimitError
from .gofmt import go_quote
from .gotypes import MISSING, Int64, StrMap, is_method, is_struct, truth, type_name
from .limits import (
    CALL_STEPS,
    CHARS_PER_STEP,
    MAX_NESTING_DEPTH,
    NESTING_EXCEEDED,
    RECURSION_EXCEEDED,
    STEPS_EXCEEDED,
    LimitExceeded,
    arguments_cost,
    result_cost,
)
from .nodes import (
    BoolNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    VariableNode,
)
from .runtime import NO_ARG, Break, Continue, Lookup, Output, error_context, error_location, short_context
from .signature import ANY, VALUE, GoFunc, GoType, go_func
from .tokenstream import Tree

_STRING_LITERALS = frozenset({"string", "any"})  # a string constant passes as is


class Evaluator:
    """Evaluates pipelines for one execution of one template; exec.State adds the walking of the tree."""

    def __init__(self, lookup: Lookup, tree: Tree, out: Output, dot: object) -> None:
        self.lookup = lookup
        self.budget = lookup.budget
        self.tree = tree
        self.out = out
        self.node: Node | None = None
        self.vars: list[list[object]] = [["$", dot, False]]  # name, value, holds a boxed range element
        # Range elements of []interface{} / map[string]interface{} sit in interface slots: Go names their type
        # "interface {}" in field errors. Track which dot / variables hold such elements.
        self.boxed_dot: object = NO_ARG

    # --- errors and variables -----------------------------------------------------------------------------

    def errorf(self, message: str) -> TemplateError:
        name = self.tree.name
        if self.node is None:
            return TemplateError(f"template: {name}: {message}")
        location, context = error_context(self.tree, self.node)
        return TemplateError(f"template: {location}: executing {go_quote(name)} at <{context}>: {message}")

    def limit_error(self, reason: str) -> TemplateLimitError:
        """Like errorf, for a limit (limits.py), with the context kept short."""
        name = self.tree.name
        if self.node is None:
            return TemplateLimitError(f"template: {name}: {reason}", reason=reason)
        location, context = error_location(self.tree, self.node), short_context(self.node)
        message = f"template: {location}: executing {go_quote(name)} at <{context}>: {reason}"
        return TemplateLimitError(message, reason=reason)

    def set_var(self, name: str, value: object, boxed: bool = False) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                entry[2] = boxed
                return
        raise self.errorf(f"undefined variable: {name}")

    def var_value(self, name: str) -> object:
        return self.var_entry(name)[1]

    def var_entry(self, name: str) -> list[object]:
        """[name, value, boxed] of the innermost variable called ``name``."""
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry
        raise self.errorf(f"undefined variable: {name}")

    # --- pipelines and commands ---------------------------------------------------------------------------

    def eval_pipeline(self, dot: object, pipe: PipeNode | None) -> object:
        if pipe is None:
            return MISSING
        self.node = pipe
        value: object = NO_ARG
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:  # a nil interface{} result unwraps to no value at all
                value = MISSING
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.vars.append([variable.ident[0], value, False])
        return value

    def not_a_function(self, args: list[Node], final: object) -> None:
        if len(args) > 1 or final is not NO_ARG:
            raise self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_nested_pipeline(self, dot: object, pipe: PipeNode) -> object:
        """A parenthesized pipeline: one level of nesting."""
        budget = self.budget
        if budget.nesting >= MAX_NESTING_DEPTH:
            raise self.limit_error(NESTING_EXCEEDED)
        budget.nesting += 1
        try:
            return self.eval_pipeline(dot, pipe)
        finally:
            budget.nesting -= 1

    def eval_command(self, dot: object, cmd: CommandNode, final: object) -> object:
        budget = self.budget
        budget.steps -= len(cmd.args)  # the command and its arguments
        if budget.steps < 0:
            raise self.limit_error(STEPS_EXCEEDED)
        first = cmd.args[0]
        kind = type(first)
        if kind is FieldNode:
            assert isinstance(first, FieldNode)
            self.node = first
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final, dot is self.boxed_dot)
        if kind is IdentifierNode:
            assert isinstance(first, IdentifierNode)
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if kind is VariableNode:
            assert isinstance(first, VariableNode)
            return self.eval_variable_node(dot, first, cmd.args, final)
        if kind is ChainNode:
            assert isinstance(first, ChainNode)
            return self.eval_chain_node(dot, first, cmd.args, final)
        if kind is PipeNode:
            assert isinstance(first, PipeNode)
            self.not_a_function(cmd.args, final)
            return self.eval_nested_pipeline(dot, first)
        self.node = first
        self.not_a_function(cmd.args, final)
        return self.eval_literal(dot, first)

    def eval_literal(self, dot: object, node: Node) -> object:
        if isinstance(node, BoolNode):
            return node.true
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            raise self.errorf("nil is not a command")
        if isinstance(node, NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, StringNode):
            return node.text
        raise self.errorf(f"can't evaluate command {go_quote(str(node))}")

    def ideal_constant(self, constant: NumberNode) -> object:
        """A number in a context with no type: its syntax decides (Go's idealConstant)."""
        self.node = constant
        text = constant.text
        if constant.is_complex:
            return constant.complex128
        hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
        if constant.is_float and not hex_int and text[:1] != "'" and any(c in text for c in ".eEpP"):
            return constant.float64
        if constant.is_int:
            return constant.int64
        if constant.is_uint:
            raise self.errorf(f"{text} overflows int")
        return MISSING

    def eval_variable_node(
        self, dot: object, node: VariableNode, args: list[Node] | None, final: object
    ) -> object:
        self.node = node
        _, value, boxed = self.var_entry(node.ident[0])
        if len(node.ident) == 1:
            if final is not NO_ARG or (args is not None and len(args) > 1):
                self.not_a_function(args or [node], final)
            return value
        return self.eval_field_chain(dot, value, node, node.ident[1:], args, final, boxed is True)

    def eval_chain_node(
        self, dot: object, chain: ChainNode, args: list[Node] | None, final: object
    ) -> object:
        self.node = chain
        if isinstance(chain.node, NilNode):
            raise self.errorf(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.field, args, final)

    def eval_field_chain(
        self,
        dot: object,
        receiver: object,
        node: Node,
        idents: list[str],
        args: list[Node] | None,
        final: object,
        boxed: bool = False,
    ) -> object:
        for ident in idents[:-1]:
            receiver, boxed = self.eval_field(dot, ident, node, None, NO_ARG, receiver, boxed)
        return self.eval_field(dot, idents[-1], node, args, final, receiver, boxed)[0]

    def eval_field(
        self,
        dot: object,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: object,
        receiver: object,
        boxed: bool,
    ) -> tuple[object, bool]:
        """One ``.Name`` step; returns the value and whether it sits in an interface{} slot (for messages)."""
        if receiver is MISSING:
            return MISSING, False
        if receiver is None:
            raise self.errorf(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not NO_ARG
        if isinstance(receiver, dict):
            if has_args:
                raise self.errorf(f"{name} is not a method but has arguments")
            return receiver.get(name, MISSING), not isinstance(receiver, StrMap)
        if is_struct(receiver) and not name.startswith("_"):
            if is_method(receiver, name):
                method = getattr(receiver, name)
                return self.eval_call(dot, go_func(method), False, node, name, args, final), False
            attribute = getattr(receiver, name, MISSING)
            if attribute is not MISSING:
                if has_args:
                    raise self.errorf(f"{name} has arguments but cannot be invoked as function")
                return attribute, False
        typ = "interface {}" if boxed else type_name(receiver)
        raise self.errorf(f"can't evaluate field {name} in type {typ}")

    def eval_function(
        self, dot: object, node: IdentifierNode, cmd: Node, args: list[Node] | None, final: object
    ) -> object:
        self.node = node
        name = node.ident
        function = self.lookup.functions.get(name)
        is_builtin = False
        if function is None:
            function = self.lookup.builtins.get(name)
            is_builtin = True
        if function is None:
            raise self.errorf(f"{go_quote(name)} is not a defined function")
        return self.eval_call(dot, function, is_builtin, cmd, name, args, final)

    # --- calls and arguments ------------------------------------------------------------------------------

    def eval_call(
        self,
        dot: object,
        function: GoFunc,
        is_builtin: bool,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: object,
    ) -> object:
        operands = args[1:] if args is not None else []
        count = len(operands) + (final is not NO_ARG)
        params, rest = function.params, function.variadic
        fixed = len(params)
        if rest is not None:
            if count < fixed:
                got = len(operands)
                raise self.errorf(f"wrong number of args for {name}: want at least {fixed} got {got}")
        elif count != fixed:
            raise self.errorf(f"wrong number of args for {name}: want {fixed} got {count}")
        if is_builtin and name in ("and", "or"):
            return self._and_or(dot, name, operands, final)
        argv = [self.eval_arg(dot, params[i] if i < fixed else rest, arg) for i, arg in enumerate(operands)]
        if final is not NO_ARG:
            argv.append(self.validate_type(final, function.param_type(count - 1)))
        return self._safe_call(function.fn, argv, node, name)

    def _and_or(self, dot: object, name: str, operands: list[Node], final: object) -> object:
        """Go's short-circuit: stop at the first argument that decides, and return it."""
        value: object = MISSING
        for arg in operands:
            value = self.eval_arg(dot, VALUE, arg)
            if truth(value) == (name == "or"):
                return value
        if final is not NO_ARG:
            value = self.validate_type(final, VALUE)
        return value

    def _safe_call(self, fn: Callable[..., object], argv: list[object], node: Node, name: str) -> object:
        budget = self.budget
        budget.steps -= CALL_STEPS + arguments_cost(argv)
        if budget.steps < 0:
            self.node = node
            raise self.limit_error(f"error calling {name}: {STEPS_EXCEEDED}")
        try:
            result = fn(*argv)
            if type(result) is str and len(result) < CHARS_PER_STEP:
                return result
            if isinstance(result, str | list | tuple | dict):
                cost = result_cost(result, argv)
                if cost:
                    budget.steps -= cost
                    if budget.steps < 0:
                        raise LimitExceeded(STEPS_EXCEEDED)
            return result
        except (Break, Continue):
            raise
        except RecursionError:  # data nested too deep for a recursive function (deepCopy, merge, toYaml, …)
            self.node = node
            raise self.limit_error(f"error calling {name}: {RECURSION_EXCEEDED}") from None
        except TemplateLimitError as err:
            if err.located:
                raise
            self.node = node
            raise self.limit_error(err.reason) from None
        except LimitExceeded as err:
            self.node = node
            raise self.limit_error(f"error calling {name}: {err.message}") from None
        except GoError as err:
            self.node = node
            raise self.errorf(f"error calling {name}: {err.message}") from None
        except TemplateError as err:
            self.node = node
            raise self.errorf(f"error calling {name}: {err.message}") from None
        except Exception as err:  # Go's safeCall recovers panics the same way
            self.node = node
            raise self.errorf(f"error calling {name}: {err}") from None

    def eval_arg(self, dot: object, typ: GoType | None, node: Node) -> object:
        self.node = node
        kind = type(node)
        if kind is StringNode and (typ is None or typ.literal in _STRING_LITERALS):
            assert isinstance(node, StringNode)
            return node.text
        if kind is VariableNode:
            assert isinstance(node, VariableNode)
            return self.validate_type(self.eval_variable_node(dot, node, None, NO_ARG), typ)
        if kind is FieldNode:
            assert isinstance(node, FieldNode)
            value = self.eval_field_chain(dot, dot, node, node.ident, [node], NO_ARG, dot is self.boxed_dot)
            return self.validate_type(value, typ)
        if kind is PipeNode:
            assert isinstance(node, PipeNode)
            return self.validate_type(self.eval_nested_pipeline(dot, node), typ)
        if kind is IdentifierNode:
            assert isinstance(node, IdentifierNode)
            return self.validate_type(self.eval_function(dot, node, node, None, NO_ARG), typ)
        if kind is ChainNode:
            assert isinstance(node, ChainNode)
            return self.validate_type(self.eval_chain_node(dot, node, None, NO_ARG), typ)
        if kind is DotNode:
            return self.validate_type(dot, typ)
        if kind is NilNode:
            if typ is None or typ.nilable:
                return MISSING if typ is None or typ is VALUE else None
            raise self.errorf(f"cannot assign nil to {typ.name}")
        return self.eval_constant(dot, typ or ANY, node)

    def eval_constant(self, dot: object, typ: GoType, node: Node) -> object:
        """A literal argument converted to the parameter type (Go's evalBool/evalString/evalInteger/…)."""
        literal = typ.literal
        if literal == "any":
            if isinstance(node, NumberNode):
                return self.ideal_constant(node)
            return self.eval_literal(dot, node)
        if literal == "string" and isinstance(node, StringNode):
            return node.text
        if literal == "int" and isinstance(node, NumberNode) and node.is_int:
            return Int64(node.int64) if typ.name == "int64" else node.int64
        if literal == "float" and isinstance(node, NumberNode) and node.is_float:
            return node.float64
        if literal == "bool" and isinstance(node, BoolNode):
            return node.true
        expected = {"string": "string", "int": "integer", "float": "float", "bool": "bool"}.get(literal)
        if expected is None:
            raise self.errorf(f"can't handle {node} for arg of type {typ.name}")
        raise self.errorf(f"expected {expected}; found {node}")

    def validate_type(self, value: object, typ: GoType | None) -> object:
        if value is MISSING:
            if typ is None or typ is VALUE:
                return MISSING
            if typ.nilable:
                return None
            raise self.errorf(f"invalid value; expected {typ.name}")
        if typ is None or typ is ANY or typ is VALUE or typ.accepts(value):
            return value
        got = "interface {}" if value is None else type_name(value)
        raise self.errorf(f"wrong type for value; expected {typ.name}; got {got}")
