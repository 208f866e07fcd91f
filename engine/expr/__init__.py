"""The expression language: typed AST (nodes), parser, type checker (types), runtime values (runtime, runtime_json), the compiler to Python (compiler, compiler_filter, analysis)."""
