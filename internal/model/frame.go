package model

// Frames reach Embed as planar 8-bit RGB in ffmpeg's "gbrp" order: the
// whole green plane, then blue, then red, each Width*Height bytes. It is the
// layout ffmpeg's scaler writes fastest, and planes are what NCHW needs.

// Planes returns the red, green and blue planes of a frame.
func Planes(frame []byte, width, height int) (r, g, b []byte) {
	n := width * height
	return frame[2*n : 3*n], frame[:n], frame[n : 2*n]
}

// PackRGB writes interleaved RGB (r, g, b per pixel) into a frame's planar
// layout; for tools and tests that start from ordinary images.
func PackRGB(rgb []byte, width, height int) []byte {
	frame := make([]byte, 3*width*height)
	r, g, b := Planes(frame, width, height)
	for p := range r {
		r[p], g[p], b[p] = rgb[3*p], rgb[3*p+1], rgb[3*p+2]
	}
	return frame
}
