package model

// Calibration is what vidprint's detectors measured in one model's
// feature space: distances and similarities mean something else in
// another model's. A catalogue entry carries its model's (Spec.Calibration);
// a model without one is located with the default model's, and its prints
// get no scenes (Calibrated).
type Calibration struct {
	// Threshold is the lowest score of an alignment that counts as a copy
	// (locate, search, dedup); docs/locate.md ("Decision", "Tuning") says
	// how it was set.
	Threshold float64
	// BriefSimilarity is the similarity at which a match shorter than 2 s,
	// such as a single image's, scores Threshold, both sides centred by
	// the video's mean: where still images were told from unrelated
	// frames.
	BriefSimilarity float64
	// ImageSimilarity is the same for a single image and its video both
	// centred by the model's typical row (TypicalRow), as search and
	// locate compare one: unrelated videos' images scored up to 0.62,
	// those whose video came first from 0.70.
	ImageSimilarity float64
	// Scenes are the scene detector's floors.
	Scenes SceneCalibration
}

// SceneCalibration holds the scene detector's floors, cosine distances
// between unit feature rows below which the series is not taken to change.
type SceneCalibration struct {
	// MinCutJump is the least one-sample jump of a cut: on a static
	// camera the largest jump measured was 0.084, while cuts in film
	// jumped 0.17 to 0.34.
	MinCutJump float64
	// MinNovelty is the least change between the mean of the second
	// before and the second after a gradual transition: a static camera's
	// largest was 0.037.
	MinNovelty float64
	// MinPersist is the least distance between the means of the 2 s
	// before and after a cut: cuts between shots of one person or place
	// measured 0.082 to 0.098, a head movement in a talking head 0.045.
	MinPersist float64
}

// qvacCalibration is the default model's, measured on its 1024-d
// embedding output.
var qvacCalibration = Calibration{
	Threshold:       0.37,
	BriefSimilarity: 0.6,
	ImageSimilarity: 0.68,
	Scenes:          SceneCalibration{MinCutJump: 0.10, MinNovelty: 0.20, MinPersist: 0.06},
}

// CalibrationOf is the calibration of catalogue model id; false where the
// catalogue has none for it.
func CalibrationOf(id string) (Calibration, bool) {
	if s, ok := Lookup(id); ok && s.Calibration != nil {
		return *s.Calibration, true
	}
	return Calibration{}, false
}

// DefaultCalibration is the default model's calibration.
func DefaultCalibration() Calibration {
	c, _ := CalibrationOf(Default)
	return c
}

// LocateCalibration is the calibration prints of model id are located
// with: its own, or the default model's where it has none.
func LocateCalibration(id string) Calibration {
	if c, ok := CalibrationOf(id); ok {
		return c
	}
	return DefaultCalibration()
}

// Calibrated reports whether model id has a calibration of its own, which
// the scene detector needs.
func Calibrated(id string) bool {
	_, ok := CalibrationOf(id)
	return ok
}

// CalibratedModels lists the models that have a calibration.
func CalibratedModels() []string {
	var out []string
	for _, s := range Catalogue() {
		if s.Calibration != nil {
			out = append(out, s.ID)
		}
	}
	return out
}
