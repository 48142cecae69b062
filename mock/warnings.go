package mock

// Warnings are the ambiguities resolved rather than refused, each saying
// where: what the specs' loader warned about (dialect-foreign keywords,
// schemes served loosely, renamed operation ids) and templates that match the
// same paths, of which the first declared serves them.
func (s *Server) Warnings() []string {
	var out []string
	for _, p := range s.profiles {
		out = append(out, p.Warnings...)
	}
	return append(out, s.router.warnings...)
}
