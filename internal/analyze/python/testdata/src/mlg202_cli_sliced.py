# The parser lives in a function without any sink (the slicer drops it):
# its options are still read, and none of them is secret.
import argparse

import mlflow


def create_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10, help="number of epochs (default: 10)")
    parser.add_argument("--lr", type=float, help="learning rate")
    return parser.parse_args()


def do_train(args):
    with mlflow.start_run():
        for key, value in vars(args).items():
            mlflow.log_param(key, value)


if __name__ == "__main__":
    do_train(create_args())
