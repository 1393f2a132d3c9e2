import SegData
import Testing

@Suite struct DatasetClassesTests {
    @Test func builtInCounts() {
        #expect(DatasetClasses.ade20k.names.count == 150 && DatasetClasses.ade20k.palette.count == 150)
        #expect(DatasetClasses.cityscapes.names.count == 19 && DatasetClasses.cityscapes.palette.count == 19)
        #expect(DatasetClasses.cocoStuff.names.count == 171 && DatasetClasses.cocoStuff.palette.count == 171)
        for classes in [DatasetClasses.ade20k, .cityscapes, .cocoStuff] {
            #expect(classes.palette.allSatisfy { $0.count == 3 })
        }
    }

    @Test func knownNamesAndColours() {
        let ade = DatasetClasses.ade20k
        #expect(ade.names.first == "wall" && ade.names.last == "flag")
        #expect(ade.palette.first == [120, 120, 120] && ade.palette.last == [92, 0, 255])
        let cityscapes = DatasetClasses.cityscapes
        #expect(cityscapes.names.first == "road" && cityscapes.names.last == "bicycle")
        #expect(cityscapes.palette[0] == [128, 64, 128] && cityscapes.palette[18] == [119, 11, 32])
        let coco = DatasetClasses.cocoStuff
        #expect(coco.names.first == "person" && coco.names[80] == "banner" && coco.names.last == "wood")
        #expect(coco.palette.first == [0, 192, 64] && coco.palette.last == [64, 64, 0])
    }

    @Test func cityscapesLabelIdTable() {
        let table = DatasetClasses.cityscapesLabelIdToTrainId
        #expect(table.count == 256)
        // road 7 -> 0, sidewalk 8 -> 1, building 11 -> 2, bicycle 33 -> 18; void classes -> 255.
        #expect(table[7] == 0 && table[8] == 1 && table[11] == 2 && table[33] == 18)
        #expect(table[0] == 255 && table[9] == 255 && table[34] == 255 && table[255] == 255)
        #expect(table.filter { $0 != 255 }.count == 19)
        #expect(Set(table.filter { $0 != 255 }) == Set(0..<19))
    }

    @Test func defaultPaletteIsDeterministicAndDistinct() {
        let palette = DatasetClasses.defaultPalette(count: 300)
        #expect(palette.count == 300)
        #expect(Set(palette).count == 300)
        #expect(!palette.contains([0, 0, 0]))
        #expect(palette == DatasetClasses.defaultPalette(count: 300))
        #expect(Array(palette.prefix(3)) == [[128, 0, 0], [0, 128, 0], [128, 128, 0]])
        #expect(DatasetClasses(names: ["a", "b"]).palette == Array(palette.prefix(2)))
    }
}
