package specs

import (
	"sync"

	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
)

// compileMu serialises schema compilation: libopenapi renders a schema to
// compile it, and rendering writes to the schema's own fields, so two
// validators built at once from one Profile race (the mock and the suites
// share profiles, and tests run mocks in parallel).
var compileMu sync.Mutex

// NewValidator builds a request and response validator for p's model.
// Security is left out: the mock checks credentials itself, and the suites
// judge them with their own requirements.
func NewValidator(p *Profile) validator.Validator {
	compileMu.Lock()
	defer compileMu.Unlock()
	return validator.NewValidatorFromV3Model(p.Model, config.WithoutSecurityValidation())
}
