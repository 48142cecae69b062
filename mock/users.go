package mock

import (
	"fmt"
	"net/http"
)

// CreateUser adds a key owner. An empty ID gets a fresh one; a user is
// active with API access unless the spec says otherwise. It lets a client
// of the control API (a conformance run) have owners of its own to
// deactivate without touching anyone else's keys.
func (s *Store) CreateUser(profile string, u User) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[profile]
	if r == nil {
		return User{}, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	if u.ID == "" {
		u.ID = "user-" + randomString(lowerLetters, 10)
		for r.users[u.ID] != nil {
			u.ID = "user-" + randomString(lowerLetters, 10)
		}
	}
	if r.users[u.ID] != nil {
		return User{}, fmt.Errorf("%w: user id %q", ErrConflict, u.ID)
	}
	cp := u
	r.users[u.ID] = &cp
	return u, nil
}

// DeleteUser removes a user who owns no key; a user with keys is a conflict,
// so no key is left with an owner that does not exist.
func (s *Store) DeleteUser(profile, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[profile]
	if r == nil {
		return fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	if r.users[id] == nil {
		return fmt.Errorf("%w: %q", ErrNoUser, id)
	}
	for _, k := range r.keys {
		if k.Owner == id {
			return fmt.Errorf("%w: user %q still owns key %s", ErrConflict, id, k.ID)
		}
	}
	delete(r.users, id)
	return nil
}

// userSpec is what POST profiles/{profile}/users takes.
type userSpec struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Active    *bool  `json:"active"`
	APIAccess *bool  `json:"apiAccess"`
}

// controlCreateUser serves POST profiles/{profile}/users.
func (s *Server) controlCreateUser(w http.ResponseWriter, r *http.Request) {
	var spec userSpec
	if err := decodeStrict(r, &spec); err != nil {
		controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	u := User{ID: spec.ID, Name: spec.Name, Email: spec.Email, Role: spec.Role, Active: true, APIAccess: true}
	if spec.Active != nil {
		u.Active = *spec.Active
	}
	if spec.APIAccess != nil {
		u.APIAccess = *spec.APIAccess
	}
	u, err := s.keys.CreateUser(r.PathValue("profile"), u)
	if err != nil {
		controlError(w, err)
		return
	}
	controlJSON(w, http.StatusCreated, u)
}

// controlDeleteUser serves DELETE profiles/{profile}/users/{id}.
func (s *Server) controlDeleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.keys.DeleteUser(r.PathValue("profile"), r.PathValue("id")); err != nil {
		controlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
