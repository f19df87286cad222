"""Network adapters. Only `base` is imported eagerly; each adapter imports its SDK lazily."""
