package bench

import (
	"errors"
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writeChart draws throughput.png: per profile, the producer, the bare baseline, the
// processor (wall clock and per core) and State.Apply alone, in million events/s; and the
// scaling run against linear scaling.
func writeChart(path string, rep *Report) error {
	left, err := throughputPlot(rep)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	plots := []*plot.Plot{left}
	if len(rep.Scaling) > 0 {
		right, err := scalingPlot(rep)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		plots = append(plots, right)
	}
	const w, h = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return errors.Join(fmt.Errorf("chart: %w", err), f.Close())
	}
	return f.Close()
}

var palette = []color.Color{
	color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff}, color.RGBA{0xe1, 0x57, 0x59, 0xff},
	color.RGBA{0x76, 0xb7, 0xb2, 0xff}, color.RGBA{0x59, 0xa1, 0x4f, 0xff},
}

func throughputPlot(rep *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput by profile (%s)", rep.Started.UTC().Format("2006-01-02"))
	p.Y.Label.Text = "million raw events/s"
	p.Y.Min = 0
	series := []struct {
		name string
		val  func(*ProfileReport) float64
	}{
		{"producer (raw in)", func(pr *ProfileReport) float64 { return pr.Produce.rate() }},
		{"bare baseline (consume+decode)", func(pr *ProfileReport) float64 { return pr.Baseline.rate() }},
		{"processor (1 instance)", func(pr *ProfileReport) float64 { return pr.Process.rate() }},
		{"processor per CPU core", func(pr *ProfileReport) float64 { return pr.Process.perCore() }},
		{"State.Apply alone per core", func(pr *ProfileReport) float64 { return pr.State.PerCore }},
	}
	bw := vg.Points(11)
	top := 0.0
	var names []string
	for _, pr := range rep.Profiles {
		names = append(names, pr.Profile.Name)
	}
	for i, s := range series {
		vals := make(plotter.Values, len(rep.Profiles))
		for j, pr := range rep.Profiles {
			vals[j] = s.val(pr) / 1e6
			top = max(top, vals[j])
		}
		bars, err := plotter.NewBarChart(vals, bw)
		if err != nil {
			return nil, err
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = bw * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	target := plotter.NewFunction(func(float64) float64 { return TargetPerCore / 1e6 })
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	target.Color = color.Gray{0x60}
	p.Add(target)
	p.Legend.Add("target: 1M ev/s per core", target)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.NominalX(names...)
	p.Y.Max = 1.45 * max(top, TargetPerCore/1e6) // room for the legend
	p.Add(plotter.NewGrid())
	return p, nil
}

func scalingPlot(rep *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Scaling: %s, %d partitions, %d cores", rep.Profiles[0].Profile.Name, rep.Config.Partitions, rep.Machine.Cores)
	p.X.Label.Text = "processor instances"
	p.Y.Label.Text = "million raw events/s"
	p.Y.Min = 0
	base := rep.Scaling[0].Process
	var got, perCore, ideal plotter.XYs
	for _, s := range rep.Scaling {
		n := float64(s.Process.Instances)
		got = append(got, plotter.XY{X: n, Y: s.Process.rate() / 1e6})
		perCore = append(perCore, plotter.XY{X: n, Y: s.Process.perCore() / 1e6})
		ideal = append(ideal, plotter.XY{X: n, Y: n * base.rate() / 1e6})
	}
	for i, l := range []struct {
		name string
		xy   plotter.XYs
	}{{"throughput", got}, {"events per CPU-second", perCore}, {"linear: N × T(1)", ideal}} {
		line, points, err := plotter.NewLinePoints(l.xy)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = palette[i], palette[i]
		if i == 2 {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line, points)
		p.Legend.Add(l.name, line, points)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ts []plot.Tick
		for _, s := range rep.Scaling {
			ts = append(ts, plot.Tick{Value: float64(s.Process.Instances), Label: fmt.Sprint(s.Process.Instances)})
		}
		return ts
	})
	p.X.Min, p.X.Max = 0.5, float64(rep.Scaling[len(rep.Scaling)-1].Process.Instances)+0.5
	p.Add(plotter.NewGrid())
	return p, nil
}
