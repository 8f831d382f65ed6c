package sfql

import "unicode/utf8"

// globMatch reports whether s matches the shell pattern pat, as fnmatch(3) without flags and
// without escapes (the sysdig filter's glob): * matches any run of characters, / included;
// ? matches one character; [abc], [a-z] and their negations [!...] or [^...] match one
// character of a set, a ] right after the opening [ (or its negation) being a member. A [
// that is never closed matches itself. Characters are UTF-8 runes; invalid bytes count as
// one character each.
func globMatch(pat, s string) bool {
	// Backtracking on the last star only: a later star supersedes an earlier one, so the
	// match costs O(len(pat)·len(s)) at worst.
	var starPat, starS = -1, 0
	pi, si := 0, 0
	for si < len(s) {
		if pi < len(pat) {
			switch pat[pi] {
			case '*':
				starPat, starS = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi, si = pi+1, si+n
				continue
			case '[':
				r, n := utf8.DecodeRuneInString(s[si:])
				if ok, next, valid := matchClass(pat[pi:], r); valid {
					if ok {
						pi, si = pi+next, si+n
						continue
					}
				} else if s[si] == '[' { // an unclosed [ is itself
					pi, si = pi+1, si+1
					continue
				}
			default:
				pr, pn := utf8.DecodeRuneInString(pat[pi:])
				if r, n := utf8.DecodeRuneInString(s[si:]); r == pr && n == pn && s[si:si+n] == pat[pi:pi+pn] {
					pi, si = pi+pn, si+n
					continue
				}
			}
		}
		if starPat < 0 {
			return false
		}
		// Let the last star take one more character and try again from there.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starPat+1, starS
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// matchClass matches r against the bracket expression at the start of pat (pat[0] is '['). It
// returns whether r is in the set, the length of the expression, and false for valid when the
// bracket is never closed.
func matchClass(pat string, r rune) (ok bool, n int, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return ok != negate, i + 1, true
		}
		first = false
		lo, ln := utf8.DecodeRuneInString(pat[i:])
		i += ln
		hi := lo
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			var hn int
			hi, hn = utf8.DecodeRuneInString(pat[i+1:])
			i += 1 + hn
		}
		if lo <= r && r <= hi {
			ok = true
		}
	}
	return false, 0, false
}
