package ingest

import (
	"fmt"
	"strings"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// ModelChoice is what was asked of an add's model: a catalogue id or a
// PATH.onnx, and an output name. NameSet and OutputSet tell which were
// asked for rather than left at their defaults.
type ModelChoice struct {
	Name, Output       string
	NameSet, OutputSet bool
}

// ModelError says why the model asked for cannot add to a library. It
// matches library.ErrModel unless NeedPath.
type ModelError struct {
	Have library.Meta
	// Want names the model asked for.
	Want string
	// NeedPath: the library was made with a model file, not a catalogue
	// entry, and the file must be named again.
	NeedPath bool
}

func (e *ModelError) Error() string {
	if e.NeedPath {
		return fmt.Sprintf("was made with the model file %s; name it again with --model PATH.onnx", library.DescribeMeta(e.Have))
	}
	return fmt.Sprintf("was made with %s; %s does not match (leave out --model, or use another library)",
		library.DescribeMeta(e.Have), strings.TrimSuffix(e.Want, "/"))
}

func (e *ModelError) Unwrap() error {
	if e.NeedPath {
		return nil
	}
	return library.ErrModel
}

// Model picks the model of an add to a library bound to meta (nil: a new
// library): the library's, unless the choice says otherwise. A choice that
// cannot match the library is refused before any model loads.
func Model(meta *library.Meta, c ModelChoice) (name, output string, err error) {
	name, output = c.Name, c.Output
	if meta == nil {
		return name, output, nil
	}
	if !c.NameSet {
		name = meta.Model.ID
		if _, ok := model.Lookup(name); !ok {
			return "", "", &ModelError{Have: *meta, NeedPath: true}
		}
	}
	if !c.OutputSet && name == meta.Model.ID {
		output = meta.Model.Output
	}
	if !model.LooksLikePath(name) && (name != meta.Model.ID || output != meta.Model.Output) {
		return "", "", &ModelError{Have: *meta, Want: name + "/" + output}
	}
	return name, output, nil
}

// Meta is what a library of res's prints is bound to, before its codec
// is chosen (rowcodec.NewMeta).
func Meta(res model.Resolved) library.Meta {
	return library.Meta{Model: vprint.Model{ID: res.Spec.ID, SHA256: res.SHA256, Output: res.Output.Name},
		Dim: res.Output.Dim, FPS: vprint.DefaultFPS}
}

// CheckModel tells whether prints of the model want (Meta) can be added
// to a library bound to have.
func CheckModel(have, want library.Meta) error {
	if have.Model != want.Model || have.Dim != want.Dim {
		return &ModelError{Have: have, Want: library.DescribeMeta(want)}
	}
	return nil
}
