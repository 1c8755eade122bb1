package deploy

import "strings"

// neutralizeCIExprs rewrites each single-line CI template expression
// ("${{ inputs.host }}" in GitHub Actions and Azure Pipelines) into a shell
// parameter expansion of the same length ("${_____________}"), so the shell
// parser reads an unknown value where the CI runner substitutes one, and
// every position in the line stays where it was. "${{" is not valid shell,
// so no real shell text changes meaning.
func neutralizeCIExprs(src string) string {
	if !strings.Contains(src, "${{") {
		return src
	}
	b := []byte(src)
	for i := 0; i+3 <= len(b); i++ {
		if b[i] != '$' || b[i+1] != '{' || b[i+2] != '{' {
			continue
		}
		end := strings.Index(string(b[i:]), "}}")
		if end < 0 {
			break
		}
		end += i + 2 // one past the closing braces
		if strings.ContainsAny(string(b[i:end]), "\n\r") {
			i += 2
			continue
		}
		b[i+1] = '{'
		for k := i + 2; k < end-1; k++ {
			b[k] = '_'
		}
		b[end-1] = '}'
		i = end - 1
	}
	return string(b)
}
