"""Development tools: wheel fetching, extension building, the test-lane runner's helpers."""
