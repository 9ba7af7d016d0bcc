//! Where a statement or call begins and ends, without printing it. syn's
//! `Spanned::span()` turns the whole node back into tokens to find its first and last
//! one, so asking it for every statement and call costs time in proportion to the code
//! under each: nested blocks pay once per level, and a chain of N method calls prints
//! N² tokens. This walks down to the first and the last token instead (a chain: N
//! steps per call, no printing), and gives the same span, the first token's start to
//! the last one's end (a delimited group is one token); kinds it does not know fall
//! back to `span()`. Checked against `span()` on every statement and call of the
//! registry's crates and millions of generated bodies (a second reader's harness): the
//! one difference is where `span()` is degenerate, an assignment whose left side is
//! itself an assignment to a range ending in a typed closure (`a = b..|| -> u8 { 0 } =
//! c;`, which no program compiles), for which syn prints parentheses with no position
//! and `span()` gives the file's start; this gives the statement.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Member, Stmt};

/// The span of a statement, as `stmt.span()` gives it.
pub(super) fn stmt(stmt: &Stmt) -> Span {
    let ends = match stmt {
        Stmt::Local(local) => Some((
            first_outer(&local.attrs).unwrap_or(local.let_token.span),
            local.semi_token.span,
        )),
        Stmt::Expr(expr, semi) => {
            first(expr).zip(semi.map_or_else(|| last(expr), |s| Some(s.span)))
        }
        Stmt::Item(_) | Stmt::Macro(_) => None,
    };
    joined(ends).unwrap_or_else(|| stmt.span())
}

/// The span of a function call, as `call.span()` gives it.
pub(super) fn call(call: &syn::ExprCall) -> Span {
    let start = first_outer(&call.attrs).or_else(|| first(&call.func));
    joined(start.map(|s| (s, call.paren_token.span.join()))).unwrap_or_else(|| call.span())
}

/// The span of a method call, as `call.span()` gives it.
pub(super) fn method_call(call: &syn::ExprMethodCall) -> Span {
    let start = first_outer(&call.attrs).or_else(|| first(&call.receiver));
    joined(start.map(|s| (s, call.paren_token.span.join()))).unwrap_or_else(|| call.span())
}

fn joined(ends: Option<(Span, Span)>) -> Option<Span> {
    ends.map(|(first, last)| first.join(last).unwrap_or(first))
}

/// The span of the first token of `expr`, when it is a kind this knows.
fn first(expr: &Expr) -> Option<Span> {
    if let Some(attr) = outer_attrs(expr).and_then(first_outer) {
        return Some(attr);
    }
    match expr {
        Expr::Call(e) => first(&e.func),
        Expr::MethodCall(e) => first(&e.receiver),
        Expr::Field(e) => first(&e.base),
        Expr::Await(e) => first(&e.base),
        Expr::Try(e) => first(&e.expr),
        Expr::Index(e) => first(&e.expr),
        Expr::Binary(e) => first(&e.left),
        Expr::Assign(e) => first(&e.left),
        Expr::Cast(e) => first(&e.expr),
        Expr::Path(e) if e.qself.is_none() => path_first(&e.path),
        Expr::Macro(e) => path_first(&e.mac.path),
        Expr::Lit(e) => Some(e.lit.span()),
        Expr::Reference(e) => Some(e.and_token.span),
        Expr::Paren(e) => Some(e.paren_token.span.join()),
        Expr::Tuple(e) => Some(e.paren_token.span.join()),
        Expr::Array(e) => Some(e.bracket_token.span.join()),
        Expr::Return(e) => Some(e.return_token.span),
        Expr::If(e) => Some(e.if_token.span),
        Expr::Match(e) => Some(e.match_token.span),
        Expr::Let(e) => Some(e.let_token.span),
        Expr::Unary(e) => Some(match e.op {
            syn::UnOp::Deref(t) => t.span,
            syn::UnOp::Not(t) => t.span,
            syn::UnOp::Neg(t) => t.span,
            _ => return None,
        }),
        _ => None,
    }
}

/// The span of the last token of `expr`, when it is a kind this knows.
fn last(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::Call(e) => Some(e.paren_token.span.join()),
        Expr::MethodCall(e) => Some(e.paren_token.span.join()),
        Expr::Field(e) => Some(match &e.member {
            Member::Named(ident) => ident.span(),
            Member::Unnamed(index) => index.span,
        }),
        Expr::Await(e) => Some(e.await_token.span),
        Expr::Try(e) => Some(e.question_token.span),
        Expr::Index(e) => Some(e.bracket_token.span.join()),
        Expr::Binary(e) => last(&e.right),
        Expr::Assign(e) => last(&e.right),
        Expr::Reference(e) => last(&e.expr),
        Expr::Unary(e) => last(&e.expr),
        Expr::Let(e) => last(&e.expr),
        Expr::Path(e) if e.qself.is_none() => path_last(&e.path),
        Expr::Macro(e) => Some(match &e.mac.delimiter {
            syn::MacroDelimiter::Paren(d) => d.span.join(),
            syn::MacroDelimiter::Brace(d) => d.span.join(),
            syn::MacroDelimiter::Bracket(d) => d.span.join(),
        }),
        Expr::Lit(e) => Some(e.lit.span()),
        Expr::Paren(e) => Some(e.paren_token.span.join()),
        Expr::Tuple(e) => Some(e.paren_token.span.join()),
        Expr::Array(e) => Some(e.bracket_token.span.join()),
        Expr::Match(e) => Some(e.brace_token.span.join()),
        Expr::Block(e) => Some(e.block.brace_token.span.join()),
        Expr::If(e) => match &e.else_branch {
            Some((_, otherwise)) => last(otherwise),
            None => Some(e.then_branch.brace_token.span.join()),
        },
        Expr::Return(e) => match &e.expr {
            Some(value) => last(value),
            None => Some(e.return_token.span),
        },
        _ => None,
    }
}

/// The first outer attribute's `#`: printed before the node. Inner ones (`#![cfg(…)]`
/// in a `match` or a block) are printed inside it.
fn first_outer(attrs: &[syn::Attribute]) -> Option<Span> {
    attrs
        .iter()
        .find(|a| matches!(a.style, syn::AttrStyle::Outer))
        .map(|a| a.pound_token.span)
}

fn path_first(path: &syn::Path) -> Option<Span> {
    match &path.leading_colon {
        Some(colon) => Some(colon.spans[0]),
        None => path.segments.first().map(|s| s.ident.span()),
    }
}

/// The last token of a path without generic arguments (`a::b`); None for `a::<T>`.
fn path_last(path: &syn::Path) -> Option<Span> {
    let segment = path.segments.last()?;
    matches!(segment.arguments, syn::PathArguments::None).then(|| segment.ident.span())
}

/// The attributes of the expression, for the kinds `first` walks through or starts at;
/// None for the others, which `first` does not know either.
fn outer_attrs(expr: &Expr) -> Option<&[syn::Attribute]> {
    Some(match expr {
        Expr::Call(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Field(e) => &e.attrs,
        Expr::Await(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        Expr::Index(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Cast(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Lit(e) => &e.attrs,
        Expr::Reference(e) => &e.attrs,
        Expr::Paren(e) => &e.attrs,
        Expr::Tuple(e) => &e.attrs,
        Expr::Array(e) => &e.attrs,
        Expr::Return(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::Let(e) => &e.attrs,
        Expr::Unary(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        _ => return None,
    })
}
