"""Deploy semantics: AWS behaviour between resources and in account state that scanners do not check."""
