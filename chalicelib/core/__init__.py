"""Pure rules, no AWS: errors, validation, scheduling, repeats, cursors, metrics."""
