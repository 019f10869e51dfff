package decode

import (
	"errors"
	"testing"
)

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Info
		wantErr error
	}{
		{"h264 with audio",
			`{"streams":[{"codec_type":"video","codec_name":"h264","width":1280,"height":720,"avg_frame_rate":"30000/1001","duration":"60.060000","nb_frames":"1800"},{"codec_type":"audio"}],"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"60.1"}}`,
			Info{Format: "mov,mp4,m4a,3gp,3g2,mj2", Codec: "h264", Width: 1280, Height: 720, DurationS: 60.06, VideoDurationS: 60.06, FrameRate: 30000.0 / 1001, Frames: 1800, HasAudio: true}, nil},
		{"rotation in side data swaps the size",
			`{"streams":[{"codec_type":"video","codec_name":"h264","width":1920,"height":1080,"side_data_list":[{"rotation":-90}]}],"format":{"format_name":"mov","duration":"8"}}`,
			Info{Format: "mov", Codec: "h264", Width: 1080, Height: 1920, Rotation: 270, DurationS: 8}, nil},
		{"rotation tag",
			`{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":480,"tags":{"rotate":"180"}}],"format":{"format_name":"mov"}}`,
			Info{Format: "mov", Codec: "h264", Width: 640, Height: 480, Rotation: 180}, nil},
		{"cover art is not video",
			`{"streams":[{"codec_type":"audio"},{"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}}],"format":{"format_name":"mp3"}}`,
			Info{}, ErrNoVideo},
		{"jpeg is a still", `{"streams":[{"codec_type":"video","codec_name":"mjpeg","width":10,"height":10}],"format":{"format_name":"image2"}}`,
			Info{Format: "image2", Codec: "mjpeg", Width: 10, Height: 10, Still: true}, nil},
		{"piped png is a still", `{"streams":[{"codec_type":"video","codec_name":"png","width":10,"height":10}],"format":{"format_name":"png_pipe"}}`,
			Info{Format: "png_pipe", Codec: "png", Width: 10, Height: 10, Still: true}, nil},
		{"bad rate and duration ignored", `{"streams":[{"codec_type":"video","codec_name":"vp8","width":10,"height":10,"avg_frame_rate":"0/0","r_frame_rate":"x","duration":"N/A"}],"format":{"format_name":"webm","duration":"-3"}}`,
			Info{Format: "webm", Codec: "vp8", Width: 10, Height: 10}, nil},
		{"zero size", `{"streams":[{"codec_type":"video","width":0,"height":0}],"format":{}}`, Info{}, ErrNotVideo},
		{"no streams", `{"streams":[],"format":{}}`, Info{}, ErrNoVideo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProbe([]byte(tt.json))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := ParseProbe([]byte("not json")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestParseShowinfo(t *testing.T) {
	tests := []struct {
		line string
		want float64
		ok   bool
	}{
		{"[Parsed_showinfo_3 @ 0x55c78bcae740] [info] n:   0 pts:      0 pts_time:0       pos:     7967 fmt:rgb24", 0, true},
		{"[Parsed_showinfo_3 @ 0x1] [info] n:  12 pts:     12 pts_time:2.4     pos: 1 fmt:rgb24", 2.4, true},
		{"[Parsed_showinfo_3 @ 0x1] [info] config in time_base: 1/5, frame_rate: 5/1", 0, false},
		{"[Parsed_showinfo_3 @ 0x1] [info] n: 1 pts: 1 pts_time:nan", 0, false},
		{"[Parsed_showinfo_3 @ 0x1] [info] n: 1 pts: 1 pts_time:", 0, false},
		{"[h264 @ 0x1] [error] n: 1 pts_time:3", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseShowinfo(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseShowinfo(%q) = %v, %v; want %v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"h264","width":1920,"height":1080,"side_data_list":[{"rotation":-90}],"avg_frame_rate":"30/1"}],"format":{"format_name":"mov","duration":"8"}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","tags":{"rotate":"1e308"},"width":5,"height":5}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseProbe(data)
		if err != nil {
			return
		}
		if info.Width <= 0 || info.Height <= 0 || info.Rotation < 0 || info.Rotation >= 360 || info.DurationS < 0 || info.FrameRate < 0 {
			t.Fatalf("accepted an impossible stream: %+v", info)
		}
	})
}

func FuzzParseShowinfo(f *testing.F) {
	f.Add("[Parsed_showinfo_3 @ 0x1] [info] n:  12 pts:     12 pts_time:2.4     pos: 1")
	f.Add("[Parsed_showinfo_3 n: pts_time:1e400")
	f.Fuzz(func(t *testing.T, line string) {
		if ts, ok := ParseShowinfo(line); ok && (ts != ts || ts > 1e308 || ts < -1e308) {
			t.Fatalf("accepted a non-finite time %v from %q", ts, line)
		}
	})
}
