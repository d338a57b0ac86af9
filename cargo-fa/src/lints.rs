//! The lints, as two `syn` visitors.
//!
//! * `Linter` walks the whole file and tracks whether it is in async code (a stack: `async fn`,
//!   `async` block and `async` closure push `true`, a nested `fn` item pushes `false`, a plain
//!   closure repeats the top). It reports FA701 / FA704 at method names and FA711 at `forget`
//!   calls, and starts an `AwaitScan` on the body of every async fn, block and closure.
//! * `AwaitScan` walks one future's body in source order with the frame-data bindings in scope
//!   (a stack truncated at the end of each block); an `.await` with a non-empty stack is FA603.
//!   It does not enter nested futures, closures or items: those are scanned on their own.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::visit::{self, Visit};
use syn::{Expr, FnArg, Pat, Signature, Type};

use crate::{Code, Finding};

/// Calls that allocate in a frame.
const FRAME_ALLOC: &[&str] = &[
    "frame_alloc",
    "try_frame_alloc",
    "frame_box",
    "try_frame_box",
    "frame_vec",
    "frame_vec_with_capacity",
    "frame_slice",
    "try_frame_slice",
];
/// Calls that open or close a frame.
const FRAME_BOUNDARY: &[&str] = &["begin_frame", "try_begin_frame", "end_frame"];
/// Calls whose result is frame data (or the frame token itself).
const FRAME_DATA: &[&str] = &[
    "frame_alloc",
    "try_frame_alloc",
    "frame_box",
    "try_frame_box",
    "frame_vec",
    "frame_vec_with_capacity",
    "frame_slice",
    "try_frame_slice",
    "begin_frame",
    "try_begin_frame",
];
/// Calls whose result is an owning allocator handle.
const HANDLES: &[&str] = &[
    "pool_box",
    "try_pool_box",
    "pool_alloc",
    "pool_vec",
    "pool_vec_with_capacity",
    "alloc_box",
    "try_alloc_box",
    "alloc_vec",
    "alloc_vec_with_capacity",
    "frame_box",
    "try_frame_box",
    "frame_vec",
    "frame_vec_with_capacity",
];
/// Methods that pass a handle through (`frame.frame_box(x).leak()` is still frame data).
const PASSTHROUGH: &[&str] = &["unwrap", "expect", "leak", "ok", "write"];
/// Type names whose values are frame data.
const FRAME_TYPES: &[&str] = &["Frame", "FrameBox", "FrameVec"];

pub(crate) fn check(file: &syn::File) -> Vec<Finding> {
    let mut linter = Linter {
        findings: Vec::new(),
        async_stack: Vec::new(),
        handles: Vec::new(),
    };
    linter.visit_file(file);
    linter.findings
}

fn finding(span: Span, code: Code, message: String) -> Finding {
    let start = span.start();
    Finding {
        line: start.line,
        column: start.column + 1,
        code,
        message,
    }
}

/// The method call an initialiser boils down to, through `?`, `&`, parentheses and
/// pass-through methods.
fn producer(expr: &Expr) -> Option<&syn::ExprMethodCall> {
    match expr {
        Expr::MethodCall(m) if PASSTHROUGH.contains(&m.method.to_string().as_str()) => {
            producer(&m.receiver).or(Some(m))
        }
        Expr::MethodCall(m) => Some(m),
        Expr::Try(t) => producer(&t.expr),
        Expr::Reference(r) => producer(&r.expr),
        Expr::Paren(p) => producer(&p.expr),
        _ => None,
    }
}

fn produced_by(expr: &Expr, names: &[&str]) -> bool {
    producer(expr).is_some_and(|m| names.contains(&m.method.to_string().as_str()))
}

/// The identifiers a pattern binds.
fn pat_idents(pat: &Pat, out: &mut Vec<syn::Ident>) {
    match pat {
        Pat::Ident(p) => out.push(p.ident.clone()),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::Paren(p) => pat_idents(&p.pat, out),
        _ => {}
    }
}

/// The single identifier `expr` names, if it is a plain path like `x`.
fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        Expr::Paren(p) => ident_of(&p.expr),
        _ => None,
    }
}

/// The last segment of a called path (`std::mem::drop` -> `drop`).
fn callee_name(call: &syn::ExprCall) -> Option<String> {
    match &*call.func {
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn mentions_frame_type(ty: &Type) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_path_segment(&mut self, s: &'ast syn::PathSegment) {
            if FRAME_TYPES.contains(&s.ident.to_string().as_str()) {
                self.0 = true;
            }
            visit::visit_path_segment(self, s);
        }
    }
    let mut f = Find(false);
    f.visit_type(ty);
    f.0
}

/// The body of a future: a block, or a closure's expression.
enum Body<'a> {
    Block(&'a syn::Block),
    Expr(&'a Expr),
}

struct Linter {
    findings: Vec<Finding>,
    /// `true` on top while in async code.
    async_stack: Vec<bool>,
    /// Per function: bindings that hold an allocator handle (for FA711).
    handles: Vec<HashSet<String>>,
}

impl Linter {
    fn in_async(&self) -> bool {
        self.async_stack.last().copied().unwrap_or(false)
    }

    fn scan_future(&mut self, sig: Option<&Signature>, body: Body<'_>) {
        let mut scan = AwaitScan {
            live: Vec::new(),
            findings: &mut self.findings,
        };
        if let Some(sig) = sig {
            for input in &sig.inputs {
                if let FnArg::Typed(t) = input
                    && mentions_frame_type(&t.ty)
                {
                    let mut ids = Vec::new();
                    pat_idents(&t.pat, &mut ids);
                    scan.live
                        .extend(ids.into_iter().map(|i| (i.to_string(), i.span())));
                }
            }
        }
        match body {
            Body::Block(b) => scan.visit_block(b),
            Body::Expr(e) => scan.visit_expr(e),
        }
    }

    fn function(&mut self, sig: &Signature, body: &syn::Block, walk: impl FnOnce(&mut Self)) {
        let is_async = sig.asyncness.is_some();
        if is_async {
            self.scan_future(Some(sig), Body::Block(body));
        }
        self.async_stack.push(is_async);
        self.handles.push(HashSet::new());
        walk(self);
        self.handles.pop();
        self.async_stack.pop();
    }
}

impl<'ast> Visit<'ast> for Linter {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.function(&f.sig, &f.block, |s| visit::visit_item_fn(s, f));
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.function(&f.sig, &f.block, |s| visit::visit_impl_item_fn(s, f));
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        match &f.default {
            Some(body) => self.function(&f.sig, body, |s| visit::visit_trait_item_fn(s, f)),
            None => visit::visit_trait_item_fn(self, f),
        }
    }

    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.scan_future(None, Body::Block(&e.block));
        self.async_stack.push(true);
        visit::visit_expr_async(self, e);
        self.async_stack.pop();
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let is_async = c.asyncness.is_some();
        if is_async {
            self.scan_future(None, Body::Expr(&c.body));
        }
        let ctx = is_async || self.in_async();
        self.async_stack.push(ctx);
        visit::visit_expr_closure(self, c);
        self.async_stack.pop();
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        if self.in_async() {
            if FRAME_ALLOC.contains(&name.as_str()) {
                self.findings.push(finding(
                    m.method.span(),
                    Code::FA701,
                    format!(
                        "frame allocation `{name}` in async code; frame memory belongs to the \
                         frame loop's thread: use TaskAlloc / AsyncPoolGuard (pool tier) in tasks"
                    ),
                ));
            } else if FRAME_BOUNDARY.contains(&name.as_str()) {
                self.findings.push(finding(
                    m.method.span(),
                    Code::FA704,
                    format!(
                        "frame boundary `{name}` in async code; a frame must not span await \
                         points: open and end frames in the synchronous frame loop"
                    ),
                ));
            }
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        visit::visit_local(self, l);
        let mut ids = Vec::new();
        pat_idents(&l.pat, &mut ids);
        let is_handle = l
            .init
            .as_ref()
            .is_some_and(|init| produced_by(&init.expr, HANDLES));
        if let Some(set) = self.handles.last_mut() {
            for id in ids {
                if is_handle {
                    set.insert(id.to_string());
                } else {
                    set.remove(&id.to_string());
                }
            }
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if callee_name(c).as_deref() == Some("forget") && c.args.len() == 1 {
            let arg = &c.args[0];
            let named =
                ident_of(arg).filter(|n| self.handles.last().is_some_and(|set| set.contains(n)));
            let what = match (named, produced_by(arg, HANDLES)) {
                (Some(n), _) => Some(format!("allocator handle `{n}`")),
                (None, true) => Some("a fresh allocator handle".to_string()),
                (None, false) => None,
            };
            if let Some(what) = what {
                self.findings.push(finding(
                    c.func_span(),
                    Code::FA711,
                    format!(
                        "`forget` of {what} leaks its block and skips the value's \
                         destructor; drop it, or move the value out with into_inner"
                    ),
                ));
            }
        }
        visit::visit_expr_call(self, c);
    }
}

trait FuncSpan {
    fn func_span(&self) -> Span;
}

impl FuncSpan for syn::ExprCall {
    fn func_span(&self) -> Span {
        match &*self.func {
            Expr::Path(p) => p
                .path
                .segments
                .first()
                .map_or_else(Span::call_site, |s| s.ident.span()),
            _ => Span::call_site(),
        }
    }
}

/// FA603: frame data in scope at an await point of one future.
struct AwaitScan<'a> {
    live: Vec<(String, Span)>,
    findings: &'a mut Vec<Finding>,
}

impl AwaitScan<'_> {
    fn release(&mut self, name: &str) {
        if let Some(i) = self.live.iter().rposition(|(n, _)| n == name) {
            self.live.remove(i);
        }
    }
}

impl<'ast> Visit<'ast> for AwaitScan<'_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let mark = self.live.len();
        visit::visit_block(self, b);
        self.live.truncate(mark);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            if produced_by(&init.expr, FRAME_DATA) {
                let mut ids = Vec::new();
                pat_idents(&l.pat, &mut ids);
                self.live
                    .extend(ids.into_iter().map(|i| (i.to_string(), i.span())));
            }
        }
    }

    fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
        self.visit_expr(&a.base);
        if self.live.is_empty() {
            return;
        }
        let names: Vec<String> = self
            .live
            .iter()
            .map(|(n, s)| format!("`{n}` (line {})", s.start().line))
            .collect();
        self.findings.push(finding(
            a.dot_token.span,
            Code::FA603,
            format!(
                "frame data {} held across this await point; drop it before awaiting or \
                 allocate it from the pool tier",
                names.join(", ")
            ),
        ));
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        visit::visit_expr_call(self, c);
        if matches!(callee_name(c).as_deref(), Some("drop" | "forget"))
            && let Some(name) = c.args.first().and_then(ident_of)
        {
            self.release(&name);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        visit::visit_expr_method_call(self, m);
        let name = m.method.to_string();
        let released = match name.as_str() {
            "end" => ident_of(&m.receiver),
            "end_frame" => m.args.first().and_then(ident_of),
            _ => None,
        };
        if let Some(r) = released {
            self.release(&r);
        }
    }

    // Nested futures, closures and items are scanned on their own.
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
