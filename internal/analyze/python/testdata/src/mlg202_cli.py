# vars(args) is a dump only when an option looks secret; one key of an
# object's attributes is not a dump.
import argparse

import mlflow


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, help="learning rate")
    args = parser.parse_args()
    for key, value in vars(args).items():
        mlflow.log_param(key, value)
    dict_args = vars(args)
    mlflow.log_param("lr", dict_args["lr"])
    mlflow.log_params(vars(args))


class Trainer:
    def log(self, model, names):
        for name in names:
            mlflow.log_param(name, model.__dict__[name])
        mlflow.log_params(model.__dict__)  # want: MLG202


def train(args):
    for key, value in vars(args).items():
        mlflow.log_param(key, value)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, help="random seed")
    train(p.parse_args())
