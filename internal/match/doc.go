// Package match locates a clip in a video by sliding the clip's print along
// the video's print until the two line up.
//
// The search runs in two stages. A coarse stage pools both prints into
// 1-second rows, sketches them to fewer dimensions and scores every start
// second, every view of the clip and every playback speed. The best
// alignments are then scored exactly, sample by sample, at every nearby
// start sample, and the stretch of the clip that matches is cut out of the
// per-sample similarities. docs/locate.md describes the method and why the
// thresholds are where they are.
package match
