// The PQ entries of a DDP image as the public ddpLib reads them (tests/ddp.rs runs this file with
// `java -cp ../shared/tools/ddp-check.jar tests/ddp/DdpPq.java DDP_DIR`, Java's single-file
// source launcher, so no compiler step is needed). ddp-check.jar's own summary (DdpInfo) gives
// the track count, CD-Text and UPC/EAN but not the indices, ISRCs or flags; this prints them
// from the library's parsed PQ stream, and where the library's track dumper starts each track in
// IMAGE.DAT. Our code only calls the library's public API; none of it is copied.
//
// Output, one line each:
//   DDPID_UPC <13 digits or null>
//   PQ <track as written> <track number> <index number> <MM:SS:FF> <control byte 1> <ISRC|null> <UPC|null>
//   TRACK <n> <index-01 start in IMAGE.DAT, bytes> <length dumped, bytes>
import com.suntriprecords.ddp.common.AbstractDdpImage;
import com.suntriprecords.ddp.common.AbstractPqDescriptorPacket;
import com.suntriprecords.ddp.common.PqStream;
import com.suntriprecords.ddp.common.PqStreamIterator;
import com.suntriprecords.ddp.util.DdpImageFactory;
import com.suntriprecords.ddp.util.DdpTrackDumper;
import java.nio.file.Paths;

public class DdpPq {
  public static void main(String[] args) throws Exception {
    AbstractDdpImage image = DdpImageFactory.load(Paths.get(args[0]));
    System.out.println("DDPID_UPC " + image.getDdpId().getUpcEan());
    PqStream<?> pq = image.getPqStream();
    PqStreamIterator<?> it = pq.iterator();
    while (it.hasNext()) {
      AbstractPqDescriptorPacket p = it.next();
      System.out.printf(
          "PQ %s %d %d %02d:%02d:%02d %s %s %s%n",
          p.getTrackNumber(),
          it.getTrkNr(),
          it.getIdxNr(),
          p.getCdaTimeMinutes(),
          p.getCdaTimeSeconds(),
          p.getCdaTimeFrames(),
          p.getControlByte1(),
          p.getIsrc(),
          p.getUpcEan());
    }
    DdpTrackDumper dumper = new DdpTrackDumper(image);
    for (int t = 1; t <= pq.getTracksCount(); t++) {
      System.out.printf(
          "TRACK %d %d %d%n", t, dumper.getTrackStartBytes(t, false), dumper.getTrackLengthBytes(t, false));
    }
  }
}
