"""The parser: a port of Go's text/template/parse/parse.go (lookahead, variable scoping, error messages)."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import TypeVar

from .errors import TemplateLimitError
from .limits import MAX_PARSE_DEPTH, PARSE_DEPTH_EXCEEDED
from .literals import unquote
from .nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    new_number,
)
from .tokens import Item, ItemType
from .tokenstream import TokenStream, Tree, is_empty_tree

I = ItemType  # noqa: E741 - short alias keeps the many token checks readable
_N = TypeVar("_N", bound=Node)


class Parser(TokenStream):
    """Parses one text into trees: the main one plus every ``define``/``block`` it contains."""

    def __init__(self, name: str, text: str, functions: Container[str]) -> None:
        super().__init__(
            name, text, break_ok="break" not in functions, continue_ok="continue" not in functions
        )
        self.functions = functions
        self.tree_set: dict[str, Tree] = {}
        # Per-tree state (Go keeps it in each Tree; definitions are parsed with a fresh one and restored).
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0  # parentheses and block bodies being parsed (MAX_PARSE_DEPTH)

    # --- top level
    # --------------------------------------------------------------------------------------------

    def parse(self) -> dict[str, Tree]:
        """Parse the text; returns the tree set (the main tree under the file name, plus definitions)."""
        main = Tree(self.parse_name, self.parse_name, self.text)
        main.root = ListNode(self.peek().pos)
        while self.peek().typ != I.EOF:
            if self.peek().typ == I.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == I.DEFINE:
                    self._parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, EndNode | ElseNode):
                raise self.errorf(f"unexpected {node}")
            main.root.nodes.append(node)
        self._add(main)
        return self.tree_set

    def _add(self, tree: Tree) -> None:
        existing = self.tree_set.get(tree.name)
        if existing is None or is_empty_tree(existing.root):
            self.tree_set[tree.name] = tree
        elif not is_empty_tree(tree.root):
            from .gofmt import go_quote

            raise self.errorf(f"template: multiple definition of template {go_quote(tree.name)}")

    def _with_fresh_scope(self, body: Callable[[], ListNode]) -> ListNode:
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        try:
            return body()
        finally:
            self.vars, self.range_depth = saved_vars, saved_depth

    def _parse_definition(self) -> None:
        context = "define clause"
        token = self.expect_one_of(I.STRING, I.RAW_STRING, context)
        name = self._unquote(token.val)
        self.expect(I.RIGHT_DELIM, context)

        def body() -> ListNode:
            root, end = self.item_list()
            if not isinstance(end, EndNode):
                raise self.errorf(f"unexpected {end} in {context}")
            return root

        tree = Tree(name, self.parse_name, self.text)
        tree.root = self._with_fresh_scope(body)
        self._add(tree)

    def _unquote(self, quoted: str) -> str:
        try:
            return unquote(quoted)
        except ValueError as err:
            raise self.errorf(str(err)) from None

    def item_list(self) -> tuple[ListNode, Node]:
        nodes = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != I.EOF:
            node = self.text_or_action()
            if isinstance(node, EndNode | ElseNode):
                return nodes, node
            nodes.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.typ == I.TEXT:
            return TextNode(token.pos, token.val)
        if token.typ == I.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == I.COMMENT:
            return CommentNode(token.pos, token.val)
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        controls: dict[int, Callable[[], Node]] = {
            I.BLOCK: self.block_control,
            I.ELSE: self.else_control,
            I.END: self.end_control,
            I.IF: lambda: self.branch_control("if"),
            I.RANGE: lambda: self.branch_control("range"),
            I.TEMPLATE: self.template_control,
            I.WITH: lambda: self.branch_control("with"),
        }
        control = controls.get(token.typ)
        if control is not None:
            return control()
        if token.typ in (I.BREAK, I.CONTINUE):
            return self.loop_control(token)
        self.backup()
        token = self.peek()
        return ActionNode(token.pos, token.line, self.pipeline("command", I.RIGHT_DELIM))

    def loop_control(self, keyword: Item) -> Node:
        name = "{{break}}" if keyword.typ == I.BREAK else "{{continue}}"
        token = self.next_non_space()
        if token.typ != I.RIGHT_DELIM:
            raise self.unexpected(token, name)
        if self.range_depth == 0:
            raise self.errorf(f"{name} outside {{{{range}}}}")
        if keyword.typ == I.BREAK:
            return BreakNode(keyword.pos, keyword.line)
        return ContinueNode(keyword.pos, keyword.line)

    # --- pipelines
    # --------------------------------------------------------------------------------------------

    def pipeline(self, context: str, end: int) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, token.line)
        self._declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self._check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(token, context)

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            variable = self.peek_non_space()
            if variable.typ != I.VARIABLE:
                return
            self.next()
            token_after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (I.ASSIGN, I.DECLARE):
                pipe.is_assign = following.typ == I.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(variable.pos, variable.val.split(".")))
                self.vars.append(variable.val)
                return
            if following.typ == I.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(variable.pos, variable.val.split(".")))
                self.vars.append(variable.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (I.VARIABLE, I.RIGHT_DELIM, I.RIGHT_PAREN):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            if token_after_variable.typ == I.SPACE:
                self.backup3(variable, token_after_variable)
            else:
                self.backup2(variable)
            return

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    # --- control structures -------------------------------------------------------------------------------

    def nested(self, parse: Callable[[], _N]) -> _N:
        """Parse one more level of parentheses or block body (recursion that MAX_PARSE_DEPTH bounds)."""
        if self.depth >= MAX_PARSE_DEPTH:
            raise TemplateLimitError(self.errorf(PARSE_DEPTH_EXCEEDED).message, reason=PARSE_DEPTH_EXCEEDED)
        self.depth += 1
        try:
            return parse()
        finally:
            self.depth -= 1

    def branch_control(self, context: str) -> Node:
        """if / range / with, including ``else if`` and ``else with`` chains."""
        return self.nested(lambda: self._branch(context))

    def _branch(self, context: str) -> Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, I.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, following = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = self._else_part(context, following)
            return BranchNode(context, pipe.pos, pipe.line, pipe, body, else_list)
        finally:
            del self.vars[mark:]

    def _else_part(self, context: str, following: Node) -> ListNode | None:
        if not isinstance(following, ElseNode):
            return None
        chained = {"if": I.IF, "with": I.WITH}.get(context)
        if chained is not None and self.peek().typ == chained:
            # "{{else if x}}" is treated as "{{else}}{{if x}}…{{end}}{{end}}": the inner end closes both.
            self.next()
            else_list = ListNode(following.pos)
            else_list.nodes.append(self.branch_control(context))
            return else_list
        else_list, end = self.item_list()
        if not isinstance(end, EndNode):
            raise self.errorf(f"expected end; found {end}")
        return else_list

    def end_control(self) -> Node:
        return EndNode(self.expect(I.RIGHT_DELIM, "end").pos)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ in (I.IF, I.WITH):
            return ElseNode(peek.pos, peek.line)
        token = self.expect(I.RIGHT_DELIM, "else")
        return ElseNode(token.pos, token.line)

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self._template_name(token, context)
        pipe = self.pipeline(context, I.RIGHT_DELIM)

        def body() -> ListNode:
            root, end = self.item_list()
            if not isinstance(end, EndNode):
                raise self.errorf(f"unexpected {end} in {context}")
            return root

        tree = Tree(name, self.parse_name, self.text)
        tree.root = self.nested(lambda: self._with_fresh_scope(body))
        self._add(tree)
        return TemplateNode(token.pos, token.line, name, pipe)

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self._template_name(token, context)
        pipe = None
        if self.next_non_space().typ != I.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, I.RIGHT_DELIM)
        return TemplateNode(token.pos, token.line, name, pipe)

    def _template_name(self, token: Item, context: str) -> str:
        if token.typ not in (I.STRING, I.RAW_STRING):
            raise self.unexpected(token, context)
        return self._unquote(token.val)

    # --- commands and operands ------------------------------------------------------------------------------

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()  # skip leading spaces
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == I.SPACE:
                continue
            if token.typ in (I.RIGHT_DELIM, I.RIGHT_PAREN):
                self.backup()
            elif token.typ != I.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().typ != I.FIELD:
            return node
        chain = ChainNode(self.peek().pos, node)
        while self.peek().typ == I.FIELD:
            chain.field.append(self.next().val[1:])
        if isinstance(node, FieldNode):
            return FieldNode(chain.pos, node.ident + chain.field)
        if isinstance(node, VariableNode):
            return VariableNode(chain.pos, node.ident + chain.field)
        if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
            from .gofmt import go_quote

            raise self.errorf(f"unexpected . after term {go_quote(str(node))}")
        return chain

    def term(self) -> Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == I.IDENTIFIER:
            if token.val not in self.functions:
                raise self.errorf(f'function "{token.val}" not defined')
            return IdentifierNode(token.pos, token.val)
        if typ == I.DOT:
            return DotNode(token.pos)
        if typ == I.NIL:
            return NilNode(token.pos)
        if typ == I.VARIABLE:
            return self.use_var(token)
        if typ == I.FIELD:
            return FieldNode(token.pos, token.val[1:].split("."))
        if typ == I.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if typ in (I.CHAR_CONSTANT, I.COMPLEX, I.NUMBER):
            try:
                return new_number(token.pos, token.val, typ == I.CHAR_CONSTANT, typ == I.COMPLEX)
            except ValueError as err:
                raise self.errorf(str(err)) from None
        if typ == I.LEFT_PAREN:
            return self.nested(lambda: self.pipeline("parenthesized pipeline", I.RIGHT_PAREN))
        if typ in (I.STRING, I.RAW_STRING):
            return StringNode(token.pos, token.val, self._unquote(token.val))
        self.backup()
        return None

    def use_var(self, token: Item) -> VariableNode:
        node = VariableNode(token.pos, token.val.split("."))
        if node.ident[0] not in self.vars:
            raise self.errorf(f'undefined variable "{node.ident[0]}"')
        return node


_OPERAND_START = frozenset(
    {
        I.BOOL,
        I.CHAR_CONSTANT,
        I.COMPLEX,
        I.DOT,
        I.FIELD,
        I.IDENTIFIER,
        I.NUMBER,
        I.NIL,
        I.RAW_STRING,
        I.STRING,
        I.VARIABLE,
        I.LEFT_PAREN,
    }
)


def parse(name: str, text: str, functions: Container[str]) -> dict[str, Tree]:
    """Parse ``text`` (the file ``name``) into its trees; raises TemplateError with Go's parse messages."""
    return Parser(name, text, functions).parse()
