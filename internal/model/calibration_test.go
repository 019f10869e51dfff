package model

import (
	"slices"
	"testing"
)

func TestCalibration(t *testing.T) {
	def, ok := CalibrationOf(Default)
	if !ok || def.Threshold <= 0 || def.BriefSimilarity <= def.Threshold || def.ImageSimilarity <= def.Threshold ||
		def.Scenes.MinCutJump <= 0 || def.Scenes.MinNovelty <= 0 || def.Scenes.MinPersist <= 0 {
		t.Fatalf("the default model's calibration %+v, %v", def, ok)
	}
	if DefaultCalibration() != def {
		t.Errorf("DefaultCalibration %+v, want %+v", DefaultCalibration(), def)
	}
	if !slices.Equal(CalibratedModels(), []string{Default}) || !Calibrated(Default) {
		t.Errorf("calibrated models %v", CalibratedModels())
	}
	for _, id := range []string{"mobilenetv3-large-imagenet", "no-such-model", ""} {
		if _, ok := CalibrationOf(id); ok || Calibrated(id) {
			t.Errorf("%q has a calibration", id)
		}
		if LocateCalibration(id) != def {
			t.Errorf("%q is located with %+v, want the default model's", id, LocateCalibration(id))
		}
	}
	// The catalogue hands out copies: changing one changes no other.
	s, _ := Lookup(Default)
	s.Calibration.Threshold = 9
	if c, _ := CalibrationOf(Default); c.Threshold != def.Threshold {
		t.Errorf("a caller changed the catalogue's calibration to %+v", c)
	}
}
