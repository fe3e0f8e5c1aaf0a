"""The input pipeline alone: the CIFAR-10 JPEG folder to float batches of 128 through
`keras_vae.data.make_dataset` on `ImageFiles` (decoded from the files every epoch, as a
streamed run does), nothing else running. Prints one `RESULT {json}` line: images per second
of the fastest of `--epochs` passes."""

import time

import keras_vae
from cifar_common import HELD_OUT, parse_args, report


def main(argv=None):
    args = parse_args(argv)
    files = keras_vae.data.scan_folder(args.data_dir, log=lambda line: None)
    dataset = keras_vae.data.make_dataset(files, args.batch_size, seed=0)
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        count = sum(int(batch.shape[0]) for batch in dataset)
        seconds.append(time.perf_counter() - start)
    report(name="pipeline", images=count, epoch_seconds=seconds,
           images_per_second=count / min(seconds), held_out=HELD_OUT)


if __name__ == "__main__":
    main()
