"""What only training and evaluating the music model needs: corpus, dataset, trainer, measures."""
