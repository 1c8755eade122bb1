// Package release holds no code: its tests check what ships, built the way
// it ships. The wheels (scripts/build-wheels.sh), the Python module inside
// them, the container Dockerfile, the GitHub Action metadata and the single
// version string (VERSION) are tested here against real tools: pip, twine,
// pytest, check-jsonschema and the scanner itself.
package release
