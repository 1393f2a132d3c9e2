import Testing
@testable import SegData

/// Replays scripted integer draws: `integer(below: n)` returns the next scripted value (must be < n).
/// Lets the crop tests fix exactly which placements RandomCrop tries.
struct ScriptedDraws: RandomNumberGenerator {
    var draws: [(value: Int, range: Int)]
    var used = 0

    /// `values` are consumed in order; `range` is the n that the transform will ask for.
    init(_ pairs: [(Int, Int)]) {
        draws = pairs.map { (value: $0.0, range: $0.1) }
    }

    mutating func next() -> UInt64 {
        precondition(used < draws.count, "ScriptedDraws ran out")
        let d = draws[used]
        used += 1
        // The smallest 64-bit word whose multiply-high by `range` is `value`, plus a margin.
        let step = UInt64.max / UInt64(d.range)
        return UInt64(d.value) * step + UInt64(d.range)
    }
}

private func grayImage(_ width: Int, _ height: Int, _ pixels: [UInt8]) -> Image {
    Image(width: width, height: height, channels: 1, pixels: pixels)
}

@Suite("Transforms")
struct TransformTests {
    // MARK: Resize sizes (mmcv rescale_size)

    @Test("rescaled sizes follow mmcv's keep-ratio rule", arguments: [
        // (w, h, ratio, expected w, expected h), computed by hand:
        // factor = min(long*r / max(w,h), short*r / min(w,h)), side = int(side*factor + 0.5)
        (683, 512, 1.0, 683, 512),   // min(2048/683, 512/512) = 1
        (683, 512, 0.5, 342, 256),   // scale (1024, 256): min(1.499, 0.5); 341.5 + 0.5 -> 342
        (683, 512, 0.75, 512, 384),  // scale (1536, 384): 0.75; 512.25 -> 512
        (683, 512, 2.0, 1366, 1024), // scale (4096, 1024): 2
        (3000, 500, 1.0, 2048, 341), // long edge bound: 2048/3000; 341.33 -> 341
    ])
    func rescaledSizes(w: Int, h: Int, ratio: Double, ew: Int, eh: Int) {
        let r = RandomResize(scale: (2048, 512), ratioRange: 0.5...2.0, keepRatio: true)
        let s = r.targetSize(width: w, height: h, ratio: ratio)
        #expect(s.width == ew && s.height == eh)
    }

    @Test func cityscapesScaleAndNoKeepRatio() {
        let r = RandomResize(scale: (2048, 1024), ratioRange: 0.5...2.0, keepRatio: true)
        // int(2048*1.3) = 2662, int(1024*1.3) = 1331; both bounds give factor 1.2998046875.
        let s = r.targetSize(width: 2048, height: 1024, ratio: 1.3)
        #expect(s.width == 2662 && s.height == 1331)
        let plain = RandomResize(scale: (300, 200), keepRatio: false).targetSize(width: 10, height: 10, ratio: 1.5)
        #expect(plain.width == 450 && plain.height == 300)
    }

    @Test func randomResizeResizesImageAndLabelsTogether() {
        var rng = SplitMix64(seed: 3)
        let sample = SegSample(image: Image(width: 40, height: 30, channels: 3, fill: 9), label: LabelMap(width: 40, height: 30, fill: 2))
        let out = RandomResize(scale: (80, 20)).apply(sample, using: &rng)
        #expect(out.image.width == out.label.width && out.image.height == out.label.height)
        #expect(out.image.height >= 10 && out.image.height <= 40)
        #expect(out.image.pixels.allSatisfy { $0 == 9 } && out.label.labels.allSatisfy { $0 == 2 })
    }

    // MARK: Bilinear and nearest

    @Test("bilinear 2x2 -> 4x4 matches half-pixel-centre interpolation by hand")
    func bilinearUpscale() {
        // Taps per output column/row: src = (d + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25,
        // clamped to 0 (weight 0), 0 + 0.25, 0 + 0.75, 1 (weight 0). E.g. (1,1):
        // 0.75*(0.75*0 + 0.25*64) + 0.25*(0.75*128 + 0.25*32) = 12 + 26 = 38.
        let src = grayImage(2, 2, [0, 64, 128, 32])
        let out = Resize.bilinear(src, width: 4, height: 4)
        #expect(out.pixels == [
            0, 16, 48, 64,
            32, 38, 50, 56,
            96, 82, 54, 40,
            128, 104, 56, 32,
        ])
    }

    @Test func bilinearDownscale() {
        // 4 -> 2: src = 0.5 and 2.5, i.e. the mean of each pair.
        #expect(Resize.bilinear(grayImage(4, 1, [10, 20, 30, 50]), width: 2, height: 1).pixels == [15, 40])
        // 3 -> 2: src = 0.25 and 1.75: 0.75*0 + 0.25*64 = 16; 0.25*64 + 0.75*128 = 112.
        #expect(Resize.bilinear(grayImage(3, 1, [0, 64, 128]), width: 2, height: 1).pixels == [16, 112])
        // Channels are interpolated independently.
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [0, 100, 200, 64, 100, 0])
        #expect(Resize.bilinear(rgb, width: 1, height: 1).pixels == [32, 100, 100])
    }

    @Test("bilinear stays within 1 level of exact half-pixel interpolation", arguments: [(7, 5, 11, 3), (5, 9, 2, 4), (13, 6, 13, 17), (3, 3, 8, 8)])
    func bilinearAgainstFloatReference(sw: Int, sh: Int, dw: Int, dh: Int) {
        var rng = SplitMix64(seed: UInt64(sw * 100 + dw))
        let src = Image(width: sw, height: sh, channels: 3, pixels: (0..<(sw * sh * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let out = Resize.bilinear(src, width: dw, height: dh)
        func tap(_ d: Int, _ n: Int, _ m: Int) -> (Int, Int, Double) {
            var f = (Double(d) + 0.5) * Double(n) / Double(m) - 0.5
            var i = Int(f.rounded(.down))
            f -= Double(i)
            if i < 0 { i = 0; f = 0 }
            if i >= n - 1 { i = n - 1; f = 0 }
            return (i, min(i + 1, n - 1), f)
        }
        var worst = 0.0
        for y in 0..<dh {
            let (y0, y1, fy) = tap(y, sh, dh)
            for x in 0..<dw {
                let (x0, x1, fx) = tap(x, sw, dw)
                for c in 0..<3 {
                    func p(_ yy: Int, _ xx: Int) -> Double { Double(src.pixels[(yy * sw + xx) * 3 + c]) }
                    let exact = (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x1)) + fy * ((1 - fx) * p(y1, x0) + fx * p(y1, x1))
                    worst = max(worst, abs(exact - Double(out.pixels[(y * dw + x) * 3 + c])))
                }
            }
        }
        #expect(worst <= 1.0)
    }

    @Test func nearestUsesFloorWithoutHalfPixelOffset() {
        // cv2 INTER_NEAREST: src = floor(d * in/out). 3 -> 5: 0, 0, 1, 1, 2 (floor of 0, .6, 1.2, 1.8, 2.4).
        let labels = LabelMap(width: 3, height: 1, labels: [1, 2, 3])
        #expect(Resize.nearest(labels, width: 5, height: 1).labels == [1, 1, 2, 2, 3])
        // 4 -> 2: floor(0), floor(2): 7, 9.
        #expect(Resize.nearest(LabelMap(width: 4, height: 1, labels: [7, 8, 9, 10]), width: 2, height: 1).labels == [7, 9])
    }

    // MARK: Crop

    /// 8x8 map of class 0 with a 3x3 block of class 1 in the bottom-right corner. For a 4x4 crop only the
    /// placements (x, y) = (4, 4), (4, 3), (3, 4) keep class 0 below 75% (7, 10, 10 of 16 pixels).
    private func dominatedMap() -> LabelMap {
        var labels = [UInt8](repeating: 0, count: 64)
        for y in 5..<8 { for x in 5..<8 { labels[y * 8 + x] = 1 } }
        return LabelMap(width: 8, height: 8, labels: labels)
    }

    @Test func cropBalanceTest() {
        let crop = RandomCrop(size: (4, 4))
        let map = dominatedMap()
        #expect(crop.isBalanced(map, box: .init(x: 4, y: 4, width: 4, height: 4)))
        #expect(crop.isBalanced(map, box: .init(x: 4, y: 3, width: 4, height: 4)))
        #expect(!crop.isBalanced(map, box: .init(x: 3, y: 3, width: 4, height: 4))) // 12/16 = 0.75 is not < 0.75
        #expect(!crop.isBalanced(map, box: .init(x: 0, y: 0, width: 4, height: 4))) // one class only
        // Ignored pixels do not count: a crop of class 1 and 255 only has one class.
        let ignored = LabelMap(width: 2, height: 1, labels: [1, 255])
        #expect(!RandomCrop(size: (1, 2)).isBalanced(ignored, box: .init(x: 0, y: 0, width: 2, height: 1)))
    }

    @Test func cropRetriesUntilBalanced() {
        // Placements are drawn y then x, each in 0...4 (margin 4 + 1).
        var rng = ScriptedDraws([(0, 5), (0, 5), (1, 5), (2, 5), (4, 5), (4, 5), (0, 5), (0, 5)])
        let box = RandomCrop(size: (4, 4)).chooseBox(for: dominatedMap(), using: &rng)
        #expect(box == .init(x: 4, y: 4, width: 4, height: 4))
        #expect(rng.used == 6) // stopped at the first balanced crop
    }

    @Test func cropGivesUpAfterTenRetriesAndKeepsTheLastDraw() {
        // 11 placements (the first + 10 retries), all at the unbalanced top-left except the last at (1, 2).
        var script = [(Int, Int)](repeating: (0, 5), count: 20)
        script += [(2, 5), (1, 5)]
        var rng = ScriptedDraws(script)
        let box = RandomCrop(size: (4, 4)).chooseBox(for: dominatedMap(), using: &rng)
        #expect(box == .init(x: 1, y: 2, width: 4, height: 4))
        #expect(rng.used == 22)
    }

    @Test func seededCropsSatisfyTheRatioWhenPossible() {
        // Half the placements are balanced here, so 11 tries fail with probability 2^-11 per seed.
        var labels = [UInt8](repeating: 0, count: 64)
        for y in 0..<8 { for x in 4..<8 { labels[y * 8 + x] = UInt8(1 + (x + y) % 2) } }
        let map = LabelMap(width: 8, height: 8, labels: labels)
        let crop = RandomCrop(size: (4, 4))
        var balanced = 0
        for seed in 0..<50 {
            var rng = SplitMix64(seed: UInt64(seed))
            if crop.isBalanced(map, box: crop.chooseBox(for: map, using: &rng)) { balanced += 1 }
        }
        #expect(balanced >= 49)
    }

    @Test func cropOfASmallImageIsClampedThenPadded() {
        var rng = SplitMix64(seed: 1)
        let sample = SegSample(image: Image(width: 3, height: 2, channels: 3, fill: 7), label: LabelMap(width: 3, height: 2, fill: 1))
        let cropped = RandomCrop(size: (4, 4), catMaxRatio: 1).apply(sample, using: &rng)
        #expect(cropped.image.width == 3 && cropped.image.height == 2)
        let padded = cropped.label.padded(toHeight: 4, width: 4)
        #expect(padded.labels == [1, 1, 1, 255, 1, 1, 1, 255, 255, 255, 255, 255, 255, 255, 255, 255])
    }

    @Test func cropCopiesTheRightPixels() {
        let image = grayImage(4, 3, Array(0..<12))
        #expect(image.cropped(x: 1, y: 1, width: 2, height: 2).pixels == [5, 6, 9, 10])
        #expect(image.cropped(x: 3, y: 2, width: 5, height: 5).pixels == [11])
    }

    // MARK: Flip, pad, reduce_zero_label, normalise

    @Test func flipMirrorsImageAndLabels() {
        let image = Image(width: 3, height: 2, channels: 3, pixels: [
            1, 2, 3, 4, 5, 6, 7, 8, 9,
            10, 11, 12, 13, 14, 15, 16, 17, 18,
        ])
        let labels = LabelMap(width: 3, height: 2, labels: [0, 1, 2, 3, 4, 5])
        let sample = SegSample(image: image, label: labels)
        var always = SplitMix64(seed: 0)
        let flipped = RandomFlip(prob: 1).apply(sample, using: &always)
        #expect(flipped.image.pixels == [7, 8, 9, 4, 5, 6, 1, 2, 3, 16, 17, 18, 13, 14, 15, 10, 11, 12])
        #expect(flipped.label.labels == [2, 1, 0, 5, 4, 3])
        #expect(RandomFlip(prob: 0).apply(sample, using: &always) == sample)
    }

    @Test func padUsesZeroForImagesAnd255ForLabels() {
        let image = grayImage(2, 1, [5, 6]).padded(toHeight: 2, width: 3)
        #expect(image.pixels == [5, 6, 0, 0, 0, 0])
        let labels = LabelMap(width: 1, height: 2, labels: [3, 4]).padded(toHeight: 2, width: 2)
        #expect(labels.labels == [3, 255, 4, 255])
        let normalized = NormalizedImage(width: 1, height: 1, channels: 2, values: [1.5, -2]).padded(toHeight: 2, width: 2)
        #expect(normalized.values == [1.5, 0, 0, 0, -2, 0, 0, 0])
        // Never crops.
        #expect(grayImage(2, 2, [1, 2, 3, 4]).padded(toHeight: 1, width: 1).pixels == [1, 2, 3, 4])
    }

    @Test func padTransformPadsBothStages() {
        let sample = SegSample(image: grayImage(1, 1, [9]), label: LabelMap(width: 1, height: 1, labels: [2]))
        let pad = Pad(size: (height: 2, width: 2))
        let bytes = pad.apply(sample)
        #expect(bytes.image.pixels == [9, 0, 0, 0] && bytes.label.labels == [2, 255, 255, 255])
        let floats = pad.apply(image: NormalizedImage(width: 1, height: 1, channels: 1, values: [-1]), label: sample.label)
        #expect(floats.image.values == [-1, 0, 0, 0] && floats.label.labels == [2, 255, 255, 255])
        #expect(TrainPipeline.ade20k(crop: 64).pad.size == (64, 64))
    }

    @Test func reduceZeroLabel() {
        let labels = LabelMap(width: 5, height: 1, labels: [0, 1, 2, 150, 255])
        #expect(labels.reducingZeroLabel().labels == [255, 0, 1, 149, 255])
    }

    @Test func normalizeGivesChannelFirstFloats() {
        let image = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 128, 0, 255, 104])
        let out = Normalize.imagenet.apply(image)
        let expected: [Float] = [
            (255 - 123.675) / 58.395, (0 - 123.675) / 58.395,
            (0 - 116.28) / 57.12, (255 - 116.28) / 57.12,
            (128 - 103.53) / 57.375, (104 - 103.53) / 57.375,
        ]
        #expect(out.width == 2 && out.height == 1 && out.channels == 3)
        #expect(zip(out.values, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    // MARK: Photometric distortion and HSV

    @Test func hsvMatchesOpenCVOnKnownColours() {
        #expect(ColorHSV.hsv(r: 255, g: 0, b: 0) == (0, 255, 255))
        #expect(ColorHSV.hsv(r: 0, g: 255, b: 0) == (60, 255, 255))
        #expect(ColorHSV.hsv(r: 0, g: 0, b: 255) == (120, 255, 255))
        #expect(ColorHSV.hsv(r: 128, g: 128, b: 128) == (0, 0, 128))
        // S = 255*150/200 = 191.25 -> 191; H = 30*(100-50)/150 = 10.
        #expect(ColorHSV.hsv(r: 200, g: 100, b: 50) == (10, 191, 200))
        #expect(ColorHSV.rgb(h: 60, s: 255, v: 255) == (0, 255, 0))
        #expect(ColorHSV.rgb(h: 0, s: 0, v: 77) == (77, 77, 77))
    }

    @Test func hsvRoundTripIsClose() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2000 {
            let r = UInt8(truncatingIfNeeded: rng.next()), g = UInt8(truncatingIfNeeded: rng.next()), b = UInt8(truncatingIfNeeded: rng.next())
            let hsv = ColorHSV.hsv(r: r, g: g, b: b)
            let back = ColorHSV.rgb(h: hsv.h, s: hsv.s, v: hsv.v)
            // 8-bit hue has 2-degree steps, so saturated colours move by a few levels.
            #expect(abs(Int(back.r) - Int(r)) <= 6 && abs(Int(back.g) - Int(g)) <= 6 && abs(Int(back.b) - Int(b)) <= 6)
        }
    }

    @Test func photometricKeepsShapeAndIsReproducible() {
        var pixels = [UInt8](repeating: 0, count: 16 * 12 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 37) % 256) }
        let image = Image(width: 16, height: 12, channels: 3, pixels: pixels)
        let distortion = PhotoMetricDistortion()
        var outputs: [Image] = []
        for seed in [5, 5, 6, 7, 8] as [UInt64] {
            var rng = SplitMix64(seed: seed)
            let out = distortion.apply(image, using: &rng)
            #expect(out.width == 16 && out.height == 12 && out.channels == 3)
            outputs.append(out)
        }
        #expect(outputs[0] == outputs[1])
        #expect(Set(outputs.map { $0.pixels }).count >= 3)
    }

    @Test func brightnessAndContrastClipThenTruncate() {
        // mmseg: float32 x*alpha + beta, clip to [0, 255], astype(uint8) truncates.
        #expect(PhotoMetricDistortion.scaled(100, alpha: 1, beta: 10.9) == 110)
        #expect(PhotoMetricDistortion.scaled(250, alpha: 1, beta: 20) == 255)
        #expect(PhotoMetricDistortion.scaled(10, alpha: 1, beta: -20.5) == 0)
        #expect(PhotoMetricDistortion.scaled(101, alpha: 1.5, beta: 0) == 151)
    }

    // MARK: Test-time resizing and pipelines

    @Test func alignResizeRoundsUpToMultiplesOf32() {
        let align = AlignResize(scale: (2048, 512), sizeDivisor: 32)
        let a = align.sizes(width: 683, height: 512)
        #expect(a.rescaled == (683, 512) && a.aligned == (704, 512))
        // 500x375: factor min(2048/500, 512/375) = 1.3653; 682.67 -> 683, 512.
        let b = align.sizes(width: 500, height: 375)
        #expect(b.rescaled == (683, 512) && b.aligned == (704, 512))
        // Long edge bound: 4000x1000 -> 2048x512.
        #expect(align.sizes(width: 4000, height: 1000).aligned == (2048, 512))
        let image = Image(width: 50, height: 40, channels: 3, fill: 200)
        let out = AlignResize(scale: (100, 20), sizeDivisor: 8).apply(image)
        #expect(out.width == 32 && out.height == 24) // 25x20 -> 32x24
        #expect(out.pixels.allSatisfy { $0 == 200 })
    }

    @Test func testTimeAugmentationViews() {
        let tta = TestTimeAugmentation(scale: (2048, 512), scales: [0.5, 1.0], flip: true, sizeDivisor: 32)
        let views = tta.views(width: 683, height: 512)
        #expect(views.count == 4)
        // 0.5: scale (1024, 256) -> 342x256 -> 352x256; 1.0: 683x512 -> 704x512.
        #expect(views.map { [$0.width, $0.height] } == [[352, 256], [352, 256], [704, 512], [704, 512]])
        #expect(views.map(\.flipped) == [false, true, false, true])
        let rendered = tta.render(Image(width: 683, height: 512, channels: 3, fill: 1), view: views[1])
        #expect(rendered.width == 352 && rendered.height == 256)
        #expect(TestTimeAugmentation().views(width: 10, height: 10).count == 12)
    }

    @Test func presetsMatchTheOfficialConfigs() {
        let ade = TrainPipeline.ade20k(crop: 512)
        #expect(ade.resize.scale == (2048, 512) && ade.crop.size == (512, 512) && ade.crop.catMaxRatio == 0.75)
        #expect(ade.resize.ratioRange == 0.5...2.0 && ade.flip.prob == 0.5 && ade.photometric != nil)
        let city = TrainPipeline.cityscapes(crop: 1024)
        #expect(city.resize.scale == (2048, 1024) && city.crop.size == (1024, 1024))
        let coco = TrainPipeline.cocoStuff(crop: 512)
        #expect(coco.resize.scale == (2048, 512) && coco.crop.size == (512, 512))
        #expect(TestPipeline.ade20k().resize.scale == (2048, 512))
        #expect(TestPipeline.ade20k(shortSide: 640).resize.scale == (2560, 640))
        #expect(TestPipeline.cityscapes().resize.scale == (2048, 1024))
    }

    @Test func trainPipelineOutputsPaddedCropsAndIsReproducible() {
        var pixels = [UInt8](repeating: 0, count: 48 * 36 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 7) % 256) }
        var labels = [UInt8](repeating: 0, count: 48 * 36)
        for i in labels.indices { labels[i] = UInt8((i / 7) % 4) }
        let sample = SegSample(image: Image(width: 48, height: 36, channels: 3, pixels: pixels), label: LabelMap(width: 48, height: 36, labels: labels))
        let pipeline = TrainPipeline.ade20k(crop: 32)
        var first: (NormalizedImage, LabelMap)?
        for _ in 0..<2 {
            var rng = SplitMix64.forSample(seed: 42, epoch: 0, index: 3)
            let out = pipeline.apply(sample, using: &rng)
            #expect(out.image.width == 32 && out.image.height == 32 && out.image.channels == 3)
            #expect(out.label.width == 32 && out.label.height == 32)
            #expect(out.label.labels.allSatisfy { $0 < 4 || $0 == 255 })
            if let first {
                #expect(first.0 == out.image && first.1 == out.label)
            }
            first = out
        }
    }

    @Test func sampleSeedsDiffer() {
        var a = SplitMix64.forSample(seed: 1, epoch: 0, index: 0)
        var b = SplitMix64.forSample(seed: 1, epoch: 0, index: 1)
        var c = SplitMix64.forSample(seed: 1, epoch: 1, index: 0)
        let x = a.next(), y = b.next(), z = c.next()
        #expect(x != y && x != z && y != z)
    }
}
